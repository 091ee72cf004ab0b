package manifest

import "fmt"

// Lineage is where a model version came from: its parent models and the
// versions and checksums of its training data.
type Lineage struct {
	// File is where the lineage was read: the lineage file, or the manifest
	// itself when the lineage is inline.
	File string
	// Prefix is the path of the lineage within File's document: "" for a
	// lineage file, "spec.lineage" when inline.
	Prefix string
	// Source is the document the lineage was read from, as a repository
	// keeps it: the lineage file, or the manifest when inline.
	Source *Source

	ModelID      string
	Version      string
	ParentModels []string
	TrainingData TrainingData
}

// TrainingData lists the data set versions a model was trained on, and one
// checksum per version.
type TrainingData struct {
	Versions  []string
	Checksums []string
}

// LineageFrom reads a lineage from value, found in doc at prefix.
func LineageFrom(file, prefix string, doc *Document, value any) *Lineage {
	o := object(asMap(value))
	td := o.obj("training_data")
	return &Lineage{
		File:         file,
		Prefix:       prefix,
		Source:       doc.Source(),
		ModelID:      o.str("model_id"),
		Version:      o.str("version"),
		ParentModels: stringList(o["parent_models"]),
		TrainingData: TrainingData{
			Versions:  stringList(td["versions"]),
			Checksums: stringList(td["checksums"]),
		},
	}
}

// Value returns the lineage as plain data in the normalized shape that
// policies read: the same keys whether it was inline or a file, lists never
// null, and unknown fields kept. An inline lineage is read from manifest,
// its manifest decoded again; a lineage file is decoded again here.
func (l *Lineage) Value(manifest *Document) (map[string]any, error) {
	doc := manifest
	if l.Prefix == "" {
		var err error
		if doc, err = l.Source.Decode(); err != nil {
			return nil, fmt.Errorf("lineage %s: %w", l.File, err)
		}
	}
	return l.normalized(l.raw(doc.Value)), nil
}

// normalized is Value's shape of the lineage's decoded value.
func (l *Lineage) normalized(rawValue any) map[string]any {
	raw := asMap(rawValue)
	out := make(map[string]any, len(raw)+4)
	for k, v := range raw {
		out[k] = v
	}
	out["model_id"] = l.ModelID
	out["version"] = l.Version
	out["parent_models"] = anyList(l.ParentModels)
	td := make(map[string]any, 2)
	for k, v := range asMap(raw["training_data"]) {
		td[k] = v
	}
	td["versions"] = anyList(l.TrainingData.Versions)
	td["checksums"] = anyList(l.TrainingData.Checksums)
	out["training_data"] = td
	return out
}

// raw is the lineage's decoded value within its document's value.
func (l *Lineage) raw(doc any) any {
	if l.Prefix == "" {
		return doc
	}
	return asMap(asMap(doc)["spec"])["lineage"]
}

// Path returns the full path, within File's document, of a path relative to
// the lineage (e.g. "training_data.checksums[1]").
func (l *Lineage) Path(rel string) string {
	switch {
	case l.Prefix == "":
		return rel
	case rel == "":
		return l.Prefix
	case rel[0] == '[':
		return l.Prefix + rel
	default:
		return l.Prefix + "." + rel
	}
}

func stringList(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := it.(string)
		out = append(out, s)
	}
	return out
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
