package metrics_test

import (
	"errors"
	"fmt"

	"github.com/modelgate/modelgate/pkg/metrics"
)

func ExampleRender() {
	query, err := metrics.Render(`sum(rate(model_errors_total{model="{{.Model}}",version=~"{{.Version}}"}[5m]))`,
		"fraud-detector", "3.2.0+build.7")
	fmt.Println(query, err)

	_, err = metrics.Render(`up{version="{{.Version}}"}`, "fraud-detector", `1"}[1m]) or vector(1) or x{a="`)
	fmt.Println(errors.Is(err, metrics.ErrBadQuery), err)
	// Output:
	// sum(rate(model_errors_total{model="fraud-detector",version=~"3\\.2\\.0\\+build\\.7"}[5m])) <nil>
	// true bad metrics query: version "1\"}[1m]) or vector(1) or x{a=\"" is not a semantic version
}

func ExampleRegistry_Lookup() {
	registry, err := metrics.NewRegistry([]metrics.ProviderConfig{
		{Name: metrics.DefaultProvider, Type: "prometheus", URL: "http://prometheus:9090"},
	})
	if err != nil {
		panic(err)
	}
	_, err = registry.Lookup("") // a plan without analysis.provider
	fmt.Println(err)
	_, err = registry.Lookup("datadog")
	fmt.Println(err)
	// Output:
	// <nil>
	// unknown metrics provider "datadog": this bot has prometheus
}
