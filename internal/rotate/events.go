package rotate

// Event is one thing the engine reports while it runs. The CLI renders events
// as step lines on a terminal, plain lines in CI, or JSON objects.
type Event struct {
	Kind     string `json:"event"` // plan, step, window, state, info, done
	Rotation string `json:"rotation,omitempty"`

	// plan
	Name     string   `json:"name,omitempty"`
	Env      string   `json:"env,omitempty"`
	Provider string   `json:"provider,omitempty"`
	Steps    []string `json:"steps,omitempty"`
	Rollback []string `json:"rollback,omitempty"`

	// step (and window: Total is the number of requests observed)
	Step   int    `json:"step,omitempty"`
	Total  int    `json:"total,omitempty"`
	Title  string `json:"title,omitempty"`
	Status string `json:"status,omitempty"` // start, ok, fail, skip
	Detail string `json:"detail,omitempty"`

	// window
	ElapsedMS   int64 `json:"elapsed_ms,omitempty"`
	RemainingMS int64 `json:"remaining_ms,omitempty"`
	Succeeded   int   `json:"succeeded,omitempty"`

	// state
	State string `json:"state,omitempty"`

	// info / done
	Message string `json:"message,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Exit    int    `json:"exit,omitempty"`
}

// Reporter receives events. It must not block for long.
type Reporter interface {
	Event(Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Event implements Reporter.
func (f ReporterFunc) Event(e Event) { f(e) }

// Step titles (the contract of DESIGN §4).
const (
	stepDetect  = 1
	stepCreate  = 2
	stepUpdate  = 3
	stepVerify  = 4
	stepRevoke  = 5
	totalSteps  = 5
	titleDetect = "Detecting provider adapter"
	titleCreate = "Creating new credential"
	titleUpdate = "Updating environment versions"
	titleRevoke = "Revoking previous credential"
)
