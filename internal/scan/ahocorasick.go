package scan

// Matcher finds every occurrence of a fixed set of byte patterns in one pass
// over a text (Aho-Corasick). The automaton is built once as a full
// deterministic table over an alphabet compressed to the bytes the patterns
// use, so scanning costs one table lookup per input byte whatever the number
// of patterns. A Matcher is immutable and safe for concurrent use.
//
// States are renumbered so that every state with output comes after every
// state without, and the table holds states premultiplied by the alphabet
// size: the inner loop is one load and one comparison per byte.
type Matcher struct {
	class    [256]uint16 // byte → alphabet class; 0 is "no pattern uses it"
	nclass   int
	next     []int32   // state*nclass + class → next state*nclass
	outStart int32     // premultiplied: states >= outStart have output
	out      [][]int32 // patterns ending exactly at a state
	dict     []int32   // nearest proper suffix state with output; -1 when none
	lens     []int     // pattern lengths by id
	foldCase bool
}

// NewMatcher builds a matcher for patterns, identified by their index.
// Empty patterns never match. With foldCase, ASCII letters match in either
// case.
func NewMatcher(patterns []string, foldCase bool) *Matcher {
	m := &Matcher{foldCase: foldCase, lens: make([]int, len(patterns))}
	fold := func(c byte) byte {
		if foldCase && 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	// Alphabet compression.
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[fold(p[i])] = true
		}
	}
	m.nclass = 1
	for c := 0; c < 256; c++ {
		if used[c] {
			m.class[c] = uint16(m.nclass)
			m.nclass++
		}
	}
	if foldCase {
		for c := 'A'; c <= 'Z'; c++ {
			m.class[c] = m.class[c+'a'-'A']
		}
	}
	// Trie.
	type node struct{ children map[uint16]int32 }
	trie := []node{{}}
	m.out = [][]int32{nil}
	for id, p := range patterns {
		m.lens[id] = len(p)
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			if trie[s].children == nil {
				trie[s].children = map[uint16]int32{}
			}
			n, ok := trie[s].children[c]
			if !ok {
				n = int32(len(trie))
				trie[s].children[c] = n
				trie = append(trie, node{})
				m.out = append(m.out, nil)
			}
			s = n
		}
		m.out[s] = append(m.out[s], int32(id))
	}
	// Breadth-first: failure links folded into a full transition table.
	n := len(trie)
	m.next = make([]int32, n*m.nclass)
	fail := make([]int32, n)
	m.dict = make([]int32, n)
	hasOut := make([]bool, n)
	m.dict[0] = -1
	queue := make([]int32, 0, n)
	for c := 0; c < m.nclass; c++ {
		if t, ok := trie[0].children[uint16(c)]; ok {
			m.next[c] = t
			fail[t] = 0
			m.dict[t] = -1
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		hasOut[s] = len(m.out[s]) > 0 || m.dict[s] >= 0
		for c := 0; c < m.nclass; c++ {
			t, ok := trie[s].children[uint16(c)]
			if !ok {
				m.next[int(s)*m.nclass+c] = m.next[int(fail[s])*m.nclass+c]
				continue
			}
			m.next[int(s)*m.nclass+c] = t
			f := m.next[int(fail[s])*m.nclass+c]
			fail[t] = f
			if len(m.out[f]) > 0 {
				m.dict[t] = f
			} else {
				m.dict[t] = m.dict[f]
			}
			queue = append(queue, t)
		}
	}
	m.renumber(hasOut)
	return m
}

// renumber puts states with output last and premultiplies the table.
func (m *Matcher) renumber(hasOut []bool) {
	n := len(hasOut)
	id := make([]int32, n)
	next := int32(0)
	for pass := 0; pass < 2; pass++ {
		for s := 0; s < n; s++ {
			if hasOut[s] == (pass == 1) {
				id[s] = next
				next++
			}
		}
		if pass == 0 {
			m.outStart = next * int32(m.nclass)
		}
	}
	table := make([]int32, len(m.next))
	out := make([][]int32, n)
	dict := make([]int32, n)
	for s := 0; s < n; s++ {
		for c := 0; c < m.nclass; c++ {
			table[int(id[s])*m.nclass+c] = id[m.next[s*m.nclass+c]] * int32(m.nclass)
		}
		out[id[s]] = m.out[s]
		dict[id[s]] = -1
		if m.dict[s] >= 0 {
			dict[id[s]] = id[m.dict[s]]
		}
	}
	m.next, m.out, m.dict = table, out, dict
}

// Len returns the number of patterns.
func (m *Matcher) Len() int { return len(m.lens) }

// FindAll calls fn for every occurrence of every pattern in text, in order
// of end position, with the pattern's id and its [start, end) offsets.
// Overlapping occurrences are all reported. fn returns false to stop.
func (m *Matcher) FindAll(text []byte, fn func(id, start, end int) bool) {
	if m == nil || len(m.out) <= 1 {
		return
	}
	next, class, limit := m.next, &m.class, m.outStart
	nclass := int32(m.nclass)
	s := int32(0)
	for i, c := range text {
		s = next[s+int32(class[c])]
		if s < limit {
			continue
		}
		for o := s / nclass; o >= 0; o = m.dict[o] {
			for _, id := range m.out[o] {
				if !fn(int(id), i+1-m.lens[id], i+1) {
					return
				}
			}
		}
	}
}

// Contains reports whether any pattern occurs in text.
func (m *Matcher) Contains(text []byte) bool {
	found := false
	m.FindAll(text, func(int, int, int) bool { found = true; return false })
	return found
}
