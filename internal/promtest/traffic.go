package promtest

import "time"

// Traffic is steady load on one model version, in the metrics the example
// rollout plan queries: the counters model_requests_total and
// model_errors_total and the histogram model_latency_seconds, each labelled
// model and version.
type Traffic struct {
	Model, Version    string
	RequestsPerSecond float64
	ErrorRatio        float64   // errors per request
	Bounds            []float64 // latency bucket bounds in seconds, ascending
	Below             []float64 // fraction of requests at or below each bound
}

// AddTraffic writes tr's series as scraped every step from from to to.
func (o *OpenMetrics) AddTraffic(tr Traffic, from, to time.Time, step time.Duration) {
	labels := Labels{"model": tr.Model, "version": tr.Version}
	var requests, errs []Point
	var latency []HistogramPoint
	perStep := tr.RequestsPerSecond * step.Seconds()
	for i, t := 0, from; !t.After(to); i, t = i+1, t.Add(step) {
		n := perStep * float64(i+1)
		requests = append(requests, Point{Time: t, Value: n})
		errs = append(errs, Point{Time: t, Value: n * tr.ErrorRatio})
		h := HistogramPoint{Time: t, Count: n}
		for j, f := range tr.Below {
			h.Buckets = append(h.Buckets, n*f)
			h.Sum += n * (f - prev(tr.Below, j)) * tr.Bounds[j]
		}
		latency = append(latency, h)
	}
	o.Counter("model_requests", labels, requests)
	o.Counter("model_errors", labels, errs)
	o.Histogram("model_latency_seconds", labels, tr.Bounds, latency)
}

// prev is the fraction below the bound before j.
func prev(below []float64, j int) float64 {
	if j == 0 {
		return 0
	}
	return below[j-1]
}
