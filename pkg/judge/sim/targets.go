package sim

import (
	"fmt"
	"strings"
)

// Check is one target of the issue, measured.
type Check struct {
	What string
	OK   bool
}

// String renders the check as a line of the report.
func (c Check) String() string {
	mark := "ok  "
	if !c.OK {
		mark = "MISS"
	}
	return mark + " " + c.What
}

// The judges the targets compare, by name.
const (
	oursName     = "modelgate"
	fallbackName = "modelgate-msprt"
	kayentaName  = "kayenta-mw"
)

// Targets checks the targets on the results, for our judge (told
// the planned looks) against the Kayenta-style judge:
//   - false rollbacks on A/A and improvements at most 1 % in every cell,
//     judged once and peeking, for our judge and, when it ran, for its
//     fallback that does not know the planned looks;
//   - detection of +10 % latency and 0.5 % -> 1 % error rate at 100 samples
//     per side at least 95 % (peeking);
//   - detection at least the Kayenta-style judge's in every regression cell,
//     with fewer false rollbacks in total.
func (r Results) Targets() []Check {
	var checks []Check
	var oursFalse, kayFalse int
	for _, sc := range r.Scenarios {
		for _, n := range r.Options.Sizes {
			o, k := r.Cells[Key{sc.Name, n, oursName}], r.Cells[Key{sc.Name, n, kayentaName}]
			if sc.Kind == Regression {
				checks = append(checks, Check{
					What: fmt.Sprintf("detection >= kayenta: %s n=%d: %.1f %% vs %.1f %%", sc.Name, n, 100*o.Rate(true), 100*k.Rate(true)),
					OK:   o.Peeking >= k.Peeking,
				})
				continue
			}
			oursFalse += o.Peeking
			kayFalse += k.Peeking
			for _, name := range []string{oursName, fallbackName} {
				c, ok := r.Cells[Key{sc.Name, n, name}]
				if !ok {
					continue
				}
				for _, peeking := range []bool{false, true} {
					checks = append(checks, Check{
						What: fmt.Sprintf("false rollbacks <= 1 %%: %s %s n=%d %s: %.1f %%", name, sc.Name, n, mode(peeking), 100*c.Rate(peeking)),
						OK:   c.Rate(peeking) <= 0.01,
					})
				}
			}
		}
	}
	checks = append(checks, Check{
		What: fmt.Sprintf("fewer false rollbacks than kayenta (peeking, all A/A and improvement cells): %d vs %d", oursFalse, kayFalse),
		OK:   oursFalse < kayFalse,
	})
	for _, sc := range r.Scenarios {
		if sc.Name != "latency +10 %" && sc.Name != "error rate 0.5 % -> 1 %" {
			continue
		}
		c, ok := r.Cells[Key{sc.Name, 100, oursName}]
		if !ok {
			continue
		}
		checks = append(checks, Check{
			What: fmt.Sprintf("detection >= 95 %%: %s n=100: %.1f %%", sc.Name, 100*c.Rate(true)),
			OK:   c.Rate(true) >= 0.95,
		})
	}
	return checks
}

func mode(peeking bool) string {
	return strings.TrimSpace(map[bool]string{true: "peeking", false: "once"}[peeking])
}
