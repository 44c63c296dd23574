package scan

import (
	"encoding/json"
	"io"
)

// SARIF 2.1.0, the subset code-scanning UIs read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	ShortDescription sarifText `json:"shortDescription"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine   int `json:"startLine"`
			StartColumn int `json:"startColumn"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

// WriteSARIF renders the report as SARIF 2.1.0: one run, one rule per rule
// ID that has findings, one result per finding (the fingerprint as
// partialFingerprints, commit and variable as properties).
func WriteSARIF(w io.Writer, r *Report) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "slickenv", InformationURI: "https://github.com/slickenv/slickenv", Version: r.Version, Rules: []sarifRule{}}}, Results: []sarifResult{}}
	ruleIndex := map[string]int{}
	for i := range r.Findings {
		f := &r.Findings[i]
		idx, ok := ruleIndex[f.RuleID]
		if !ok {
			idx = len(run.Tool.Driver.Rules)
			ruleIndex[f.RuleID] = idx
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: f.RuleID, Name: f.RuleID, ShortDescription: sarifText{f.Description}})
		}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = f.Path
		loc.PhysicalLocation.Region.StartLine = f.Line
		loc.PhysicalLocation.Region.StartColumn = f.Column
		props := map[string]any{"secret": r.secretText(f)}
		if f.Known() && len(f.Owners) > 0 {
			o := f.Owners[0]
			props["variable"], props["environment"], props["status"] = o.Variable, o.Environment, o.Status()
		}
		if c := f.Commit; c.ID != "" {
			props["commit"], props["author"], props["email"], props["date"] = c.ID, c.Author, c.Email, c.Date.UTC().Format("2006-01-02T15:04:05Z")
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.RuleID, RuleIndex: idx, Level: "error",
			Message:             sarifText{r.message(f)},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"slickenv/v1": f.Fingerprint},
			Properties:          props,
		})
	}
	doc := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
