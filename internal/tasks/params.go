package tasks

import "time"

// ClusterParams are the parameters of a keywords:cluster job.
type ClusterParams struct {
	// Recluster asks for a full re-cluster (POST /v1/sites/:id/recluster):
	// the site's clusters that are neither locked, edited nor holding
	// ideas give their keywords back and are replaced, and no keyword
	// joins an edited cluster. Without it, keywords join the clusters
	// they fit (locked ones excepted) and the rest form new clusters.
	Recluster bool `json:"recluster,omitempty"`
	// CreditMultiplier is the catalogue's credit multiplier of the model
	// that names the clusters, as quoted (#23): the keywords' credits are
	// multiplied by it, rounded up. Zero is 1.
	CreditMultiplier float64 `json:"credit_multiplier,omitempty"`
}

// ImageParams are the parameters of an image:generate job.
type ImageParams struct {
	// CreditsPerImage is what each image made costs, as quoted: the image
	// cost times the catalogue's credit multiplier of the image model
	// (#23). Zero is the worker's image cost.
	CreditsPerImage int64 `json:"credits_per_image,omitempty"`
}

// IdeasParams are the parameters of an ideas:generate job.
type IdeasParams struct {
	Count int `json:"count"`
}

// WordPress post statuses a publish may ask for.
const (
	PostDraft   = "draft"
	PostPublish = "publish"
	PostFuture  = "future"
)

// PublishParams are the options of a post:publish job.
type PublishParams struct {
	// Status is the post's final status: draft, publish or future.
	Status string `json:"status"`
	// PublishAt is the UTC time of a future post.
	PublishAt *time.Time `json:"publish_at,omitempty"`
}

// Deployment actions.
const (
	ActionDeploy   = "deploy"
	ActionRedeploy = "redeploy"
	ActionStop     = "stop"
	ActionStart    = "start"
	ActionDomain   = "domain"
	ActionDestroy  = "destroy"
)

// DeployParams are the parameters of a site:deploy job.
type DeployParams struct {
	Action string `json:"action"`
}
