package metrics

import "github.com/prometheus/client_golang/prometheus"

// Circuits counts the state changes of the provider circuits (package
// breaker) that this process's calls caused, by circuit key (a provider's
// model, like "openai/gpt-4o-mini") and the state changed to: "open" counts
// the times a provider was taken out of its chains, "closed" the times it
// came back. Each change is counted once, by the process that made it. Its
// Changed method is a breaker's OnTransition (with the states' String()),
// which can be set before the process's registry exists; Attach the
// Circuits to the registry then.
type Circuits struct {
	transitions *prometheus.CounterVec
}

// NewCircuits returns a counter of circuit changes, not yet attached.
func NewCircuits() *Circuits {
	return &Circuits{transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "circuit_transitions_total",
		Help: "Changes of AI provider circuits this process made, by circuit key and state (open, half_open, closed)."},
		[]string{"key", "to"})}
}

// Changed counts one change of key's circuit from one state to another.
func (c *Circuits) Changed(key, from, to string) {
	c.transitions.WithLabelValues(key, to).Inc()
}

// Describe implements prometheus.Collector.
func (c *Circuits) Describe(ch chan<- *prometheus.Desc) { c.transitions.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Circuits) Collect(ch chan<- prometheus.Metric) { c.transitions.Collect(ch) }
