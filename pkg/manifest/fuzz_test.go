package manifest

import (
	"reflect"
	"testing"
)

// fuzzDecode checks the properties every decoded document must have: no
// panic, and every recorded position is a real place in the file.
func fuzzDecode(t *testing.T, file string, data []byte) {
	doc, err := Decode(file, data, DefaultLimits())
	if err != nil {
		if doc != nil {
			t.Fatalf("document returned with error %v", err)
		}
		return
	}
	for path, pos := range doc.Positions.All() {
		if pos.Line < 1 || pos.Column < 1 {
			t.Fatalf("path %q has position %+v", path, pos)
		}
	}
	if _, _, ok := doc.Locate(""); !ok {
		t.Fatal("root has no position")
	}
	again, err := doc.Source().Decode()
	if err != nil {
		t.Fatalf("decoding the source again: %v", err)
	}
	if !reflect.DeepEqual(doc, again) {
		t.Fatalf("decoding the source again gave %#v, first %#v", again, doc)
	}
}

func FuzzDecodeYAML(f *testing.F) {
	f.Add([]byte(sampleYAML))
	f.Add([]byte("a: &a [1, *a]\nb: {<<: *a}\n"))
	f.Add([]byte("\xEF\xBB\xBFa:\r\n  - b: 1\r\n"))
	f.Add([]byte("? [a]\n: 1\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, "model.yaml", data) })
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"model_id":"a","parent_models":["b@1.0.0"],"training_data":{"versions":["1"],"checksums":["sha256:00"]}}`))
	f.Add([]byte("{\"a\": 1, \"a\": 2}"))
	f.Add([]byte("[[[[1e999]]]]"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, "lineage.json", data) })
}
