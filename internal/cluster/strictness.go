package cluster

import (
	"fmt"

	"github.com/presswork/presswork/internal/errs"
)

// Strictness is a site's choice between precision and coverage (#21).
type Strictness string

// The strictness levels; Balanced is the default.
const (
	Strict    Strictness = "strict"
	Balanced  Strictness = "balanced"
	Inclusive Strictness = "inclusive"
)

// Strictnesses lists the levels, strictest first.
var Strictnesses = []Strictness{Strict, Balanced, Inclusive}

// Options returns the options of the level: strict asks members to be
// closer to their cluster, and outliers and near-duplicate clusters to be
// closer before they join, and the lexical pass more members holding a
// term, rarer terms and closer groups; inclusive asks less. Balanced is the default
// Options. An unknown level is an error wrapping errs.ErrPermanent; ""
// is Balanced.
func (s Strictness) Options() (Options, error) {
	switch s {
	case Strict:
		return Options{Threshold: 0.4, MergeThreshold: 0.4, AttachThreshold: 0.35, NearThreshold: 0.45, RegroupThreshold: 0.35,
			TermShare: 0.03, TermSupport: 3, TermCohesion: 0.25}, nil
	case Balanced, "":
		return Options{}, nil
	case Inclusive:
		return Options{Threshold: 0.3, MergeThreshold: 0.25, AttachThreshold: 0.2, NearThreshold: 0.25, RegroupThreshold: 0.2,
			TermShare: 0.08, TermCohesion: 0.01}, nil
	}
	return Options{}, fmt.Errorf("cluster: strictness %q is not strict, balanced or inclusive: %w", string(s), errs.ErrPermanent)
}
