package tasks

import "github.com/presswork/presswork/internal/ai"

// Stage is one automation stage under every name it goes by. Each name is a
// wire value: the automation name is store's (rules keep it in PostgreSQL,
// the candidate SQL selects by it; store.Stages lists them), the task type
// this package's, the prompt stage ai's (prompt overrides and model
// settings use it). Pipeline is the one place that relates them; it spells
// the automation names out so that the task contract links no database
// code, and its test holds them equal to store.Stages.
type Stage struct {
	// Name is the automation name: rules' stages, run reports, the API.
	Name string
	// Type is the task type of the stage's jobs.
	Type string
	// Prompt is the prompt stage of the stage's model call; "" when the
	// stage calls no text model.
	Prompt ai.Stage
	// Subjects names, in the plural, what the stage's jobs work on: one job
	// per subject, the payload's SubjectID.
	Subjects string
}

// Pipeline lists the automation stages in pipeline order, the order of
// store.Stages.
var Pipeline = []Stage{
	{Name: "cluster", Type: TypeCluster, Prompt: ai.StageClusterName, Subjects: "sites"},
	{Name: "ideas", Type: TypeIdeas, Prompt: ai.StageIdeas, Subjects: "clusters"},
	{Name: "drafts", Type: TypeDraft, Prompt: ai.StageDraft, Subjects: "ideas"},
	{Name: "images", Type: TypeImage, Prompt: ai.StageImagePrompt, Subjects: "drafts"},
	{Name: "publish", Type: TypePublish, Subjects: "drafts"},
}

// StageNamed returns the stage whose automation name is name.
func StageNamed(name string) (Stage, bool) {
	for _, st := range Pipeline {
		if st.Name == name {
			return st, true
		}
	}
	return Stage{}, false
}
