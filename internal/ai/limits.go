package ai

// Limits the stages enforce on their input and on the model's answers. Lengths
// are counted in runes.
const (
	MaxIdeaCount = 20 // most ideas one Ideas call may ask for

	maxClusterNameLen        = 80
	maxClusterDescriptionLen = 300
	minTitleLen              = 10
	maxTitleLen              = 120
	minTargetKeywords        = 1
	maxTargetKeywords        = 10
	minOutlineHeadings       = 3
	maxOutlineHeadings       = 15
	maxHeadingLen            = 120
	maxSlugLen               = 80
	maxExcerptLen            = 300
	maxMetaTitleLen          = 60
	minMetaDescriptionLen    = 50
	maxMetaDescriptionLen    = 160
	maxDraftOutlineHeadings  = 30
	minImagePromptLen        = 20
	maxImagePromptLen        = 1000
	minAltTextLen            = 5
	maxAltTextLen            = 125
	// promptHeadings caps the headings rendered into an image prompt.
	promptHeadings = 20

	// promptKeywords and promptTitles cap the lists rendered into a prompt.
	promptKeywords = 60
	promptTitles   = 100
	// maxReportedProblems caps the problems quoted back to the model.
	maxReportedProblems = 12
)

// Token budgets per stage.
const (
	clusterNameMaxTokens = 500
	ideasBaseMaxTokens   = 600
	ideasPerIdeaTokens   = 500
	draftMaxTokens       = 8000
	imagePromptMaxTokens = 600
	inlinePromptTokens   = 300 // more per in-article image
)
