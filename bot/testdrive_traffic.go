package main

import (
	"context"
	"time"

	"github.com/modelgate/modelgate/internal/exporter"
	"github.com/modelgate/modelgate/internal/fakeprometheus"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The drive's traffic: fraud-detector serves driveRate requests a second,
// shared by its versions as the deploy workflow puts them. Each version is
// a request stream of internal/exporter (Poisson arrivals, 1 % errors, a
// lognormal latency around 40 ms, an alert on 5 % of the requests, 60 % of
// the alerts confirmed), drawn with a fixed seed, and the fake Prometheus
// scrapes them as Prometheus would. A canary's latency is its version's
// slowdown times the baseline's.
const (
	driveModel   = "fraud-detector"
	driveRate    = 200_000.0
	driveLatency = 0.040 // seconds, the median
	driveScrape  = 200 * time.Millisecond
	driveTick    = 50 * time.Millisecond
	driveSeed    = 17
)

// driveTraffic is the model's request streams and the fake Prometheus
// that scrapes them.
type driveTraffic struct {
	streams  *exporter.Exporter
	prom     *fakeprometheus.Server
	versions []string
}

// newDriveTraffic starts with every request on the live version.
func newDriveTraffic(now time.Time) *driveTraffic {
	versions := append([]string{driveLive}, versionsOf(driveVersions)...)
	var vs []exporter.Version
	for _, v := range versions {
		vs = append(vs, exporter.Version{Model: driveModel, Version: v, ErrorRate: 0.01,
			LatencyMedian: driveLatency * slowdown(v), LatencySigma: 0.3,
			Quality: &exporter.Quality{Name: "fraud_alerts", GoodName: "confirmed", Share: 0.05, GoodShare: 0.6}})
	}
	vs[0].RequestsPerSecond = driveRate
	x := exporter.New(vs, driveTick, driveSeed, now)
	prom := fakeprometheus.New(driveScrape, fakeprometheus.Target{Job: driveModel, Instance: driveModel + ":8080", Handler: x})
	return &driveTraffic{streams: x, prom: prom, versions: versions}
}

// run draws the streams and scrapes them until ctx is done.
func (t *driveTraffic) run(ctx context.Context) {
	go t.streams.Run(ctx)
	t.prom.Run(ctx)
}

// shift is what the deploy workflow does: traffic percent of the requests
// on version, the rest on baseline, none on the others.
func (t *driveTraffic) shift(version, baseline string, traffic float64) {
	for _, v := range t.versions {
		rate := 0.0
		switch v {
		case version:
			rate = driveRate * traffic / 100
		case baseline:
			rate = driveRate * (100 - traffic) / 100
		}
		t.streams.Update(driveModel, v, func(s *exporter.Version) { s.RequestsPerSecond = rate })
	}
}

func slowdown(version string) float64 {
	for _, v := range driveVersions {
		if v.version == version {
			return v.slower
		}
	}
	return 1
}

// humanCount writes a whole number with its thousands separated.
func humanCount(x float64) string {
	return message.NewPrinter(language.English).Sprintf("%.0f", x)
}
