package history

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
)

// JSONVersion is the version of the JSON history's format. It changes only
// when a field is removed or changes meaning; new fields may appear.
const JSONVersion = 1

//go:embed schema/history.schema.json
var historySchema []byte

// JSONSchema returns the JSON Schema of the JSON history, which documents it.
func JSONSchema() []byte { return historySchema }

// jsonHistory is the JSON document: the history and its format's version.
type jsonHistory struct {
	Version int `json:"version"`
	History
}

// WriteJSON writes h as one indented JSON document (see JSONSchema).
func WriteJSON(w io.Writer, h History) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonHistory{Version: JSONVersion, History: h}); err != nil {
		return fmt.Errorf("write history as json: %w", err)
	}
	return nil
}
