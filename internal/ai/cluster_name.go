package ai

import (
	"context"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// NameCluster asks the model for a name and description of a keyword cluster.
func (w *Writer) NameCluster(ctx context.Context, in ClusterNameInput) (ClusterName, Usage, error) {
	if err := validateClusterNameInput(in); err != nil {
		return ClusterName{}, Usage{}, err
	}
	return runStage(ctx, w, stageCall{stage: StageClusterName, input: in, maxTokens: clusterNameMaxTokens},
		ParseClusterName)
}

// ParseClusterName decodes a cluster_name answer strictly (no unknown
// fields), trims its fields and validates it.
func ParseClusterName(content []byte) (ClusterName, error) {
	var c ClusterName
	if err := decodeStrict(content, &c); err != nil {
		return ClusterName{}, err
	}
	c.Name = strings.TrimSpace(c.Name)
	c.Description = strings.TrimSpace(c.Description)
	if err := ValidateClusterName(c); err != nil {
		return ClusterName{}, err
	}
	return c, nil
}

// ValidateClusterName checks a cluster name (1 to 80 characters) and
// description (1 to 300 characters).
func ValidateClusterName(c ClusterName) error {
	ve := &errs.ValidationError{}
	checkLen(ve, "name", c.Name, 1, maxClusterNameLen)
	checkLen(ve, "description", c.Description, 1, maxClusterDescriptionLen)
	return ve.OrNil()
}

// validateClusterNameInput checks, before the model is asked, that there is
// a keyword to name.
func validateClusterNameInput(in ClusterNameInput) error {
	for _, k := range in.Keywords {
		if strings.TrimSpace(k.Phrase) != "" {
			return nil
		}
	}
	return errs.Invalid("keywords", "at least one keyword is needed")
}
