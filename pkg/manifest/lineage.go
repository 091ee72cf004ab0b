package manifest

// Lineage is where a model version came from: its parent models and the
// versions and checksums of its training data.
type Lineage struct {
	// File is where the lineage was read: the lineage file, or the manifest
	// itself when the lineage is inline.
	File string
	// Prefix is the path of the lineage within File's document: "" for a
	// lineage file, "spec.lineage" when inline.
	Prefix string
	// Doc is the decoded document the lineage was read from.
	Doc *Document
	// Source is that document as a repository keeps it.
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
		Doc:          doc,
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
// null, and unknown fields kept.
func (l *Lineage) Value() map[string]any {
	raw := asMap(l.raw())
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

// raw is the lineage's decoded value within its document.
func (l *Lineage) raw() any {
	if l.Prefix == "" {
		return l.Doc.Value
	}
	return asMap(asMap(l.Doc.Value)["spec"])["lineage"]
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
