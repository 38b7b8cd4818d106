package metrics_test

import (
	"testing"

	"github.com/presswork/presswork/internal/metrics"
)

// TestCircuits: circuit changes counted before the Circuits are attached
// show once they are, by key and new state.
func TestCircuits(t *testing.T) {
	t.Parallel()
	c := metrics.NewCircuits()
	c.Changed("openai/gpt-4o-mini", "closed", "open")
	c.Changed("openai/gpt-4o-mini", "open", "half_open")
	c.Changed("openai/gpt-4o-mini", "half_open", "open")
	reg := metrics.New()
	if _, err := reg.Attach(c); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	checkCounter(t, fams, "presswork_circuit_transitions_total", map[string]string{"key": "openai/gpt-4o-mini", "to": "open"}, 2)
	checkCounter(t, fams, "presswork_circuit_transitions_total", map[string]string{"key": "openai/gpt-4o-mini", "to": "half_open"}, 1)
}
