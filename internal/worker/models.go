package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// promptSource gives a tenant's active prompt override of a stage.
type promptSource interface {
	ActivePrompt(ctx context.Context, tenantID int64, stage string) (store.PromptVersion, error)
}

// Models gives a job the AI models that serve its tenant.
type Models struct {
	// retry retries each model call of a stage after a passing fault.
	retry ai.Retry
	// writer and embedder serve every tenant without providers of its own.
	writer   *ai.Writer
	embedder ai.Embedder
	// tenants, if not nil, gives the providers of tenants that bring their
	// own credentials.
	tenants TenantModels
	// image makes the images of every tenant (tenants bring text and
	// embedding keys only).
	image   ai.ImageModel
	prompts promptSource
	// router, if not nil, serves the stages the model catalogue routes
	// (an operator's route, a tenant's choice) for tenants without
	// providers of their own.
	router Router
}

// Router gives the models the model catalogue routes a tenant's stage to;
// ok is false when the catalogue leaves the stage to the worker's own
// models (providers.Router).
type Router interface {
	Text(ctx context.Context, tenantID int64, stage ai.Stage) (m ai.TextModel, ok bool, err error)
	Embedder(ctx context.Context, tenantID int64) (e ai.Embedder, ok bool, err error)
	Image(ctx context.Context, tenantID int64) (m ai.ImageModel, ok bool, err error)
}

// For returns the writer and embedder of a tenant's job: the tenant's own
// providers if it has them, else the models the catalogue routes the
// stage to, else the worker's; and the tenant's active prompt override of
// stage, if any. The writer retries each call after a passing fault
// (m.retry).
func (m *Models) For(ctx context.Context, tenantID int64, stage ai.Stage) (*ai.Writer, ai.Embedder, error) {
	if m.writer == nil {
		return nil, nil, errs.Permanent(errors.New("the worker has no text model"))
	}
	w := m.writer.WithRetry(m.retry)
	ctx = providers.WithRouteMemo(ctx) // the stage's route and the embeddings' in one read
	text, own, err := m.ownText(ctx, tenantID, stage)
	if err != nil {
		return nil, nil, err
	}
	if text != nil {
		if w, err = w.WithModel(text); err != nil {
			return nil, nil, errs.Permanent(err)
		}
	}
	emb := own.Embedder
	if emb == nil {
		if emb, err = m.routedEmbedder(ctx, tenantID); err != nil {
			return nil, nil, err
		}
	}
	override, err := m.prompts.ActivePrompt(ctx, tenantID, string(stage))
	if errors.Is(err, errs.ErrNotFound) {
		return w, emb, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load the tenant's %s prompt templates: %w", stage, err)
	}
	w, err = w.WithPrompts(map[ai.Stage]ai.PromptPair{stage: {System: *override.System, User: *override.User}})
	if err != nil {
		return nil, nil, errs.Permanent(fmt.Errorf("the tenant's %s prompt templates (version %d) cannot be used: %w",
			stage, override.Version, err))
	}
	return w, emb, nil
}

// ownText returns the text model of a tenant's stage when it is not the
// worker's: the tenant's own providers (own holds them), or the
// catalogue's route; nil when the worker's serves it.
func (m *Models) ownText(ctx context.Context, tenantID int64, stage ai.Stage) (ai.TextModel, ai.TextModels, error) {
	if m.tenants != nil {
		p, ok, err := m.tenants.ForTenant(ctx, tenantID)
		if err != nil {
			return nil, ai.TextModels{}, fmt.Errorf("AI providers: %w", err)
		}
		if ok {
			return p.Text, p, nil
		}
	}
	if m.router == nil {
		return nil, ai.TextModels{}, nil
	}
	text, ok, err := m.router.Text(ctx, tenantID, stage)
	if err != nil || !ok {
		return nil, ai.TextModels{}, err
	}
	return text, ai.TextModels{}, nil
}

// routedEmbedder returns the embedder the catalogue routes embeddings to,
// else the worker's.
func (m *Models) routedEmbedder(ctx context.Context, tenantID int64) (ai.Embedder, error) {
	if m.router != nil {
		emb, ok, err := m.router.Embedder(ctx, tenantID)
		if err != nil || ok {
			return emb, err
		}
	}
	return m.embedder, nil
}

// EmbedderFor returns the embedder of a tenant's job: the tenant's own if
// it has providers of its own, else the catalogue's routed one, else the
// worker's (nil when the worker has none).
func (m *Models) EmbedderFor(ctx context.Context, tenantID int64) (ai.Embedder, error) {
	if m.tenants != nil {
		p, ok, err := m.tenants.ForTenant(ctx, tenantID)
		if err != nil {
			return nil, fmt.Errorf("AI providers: %w", err)
		}
		if ok {
			return p.Embedder, nil
		}
	}
	return m.routedEmbedder(ctx, tenantID)
}

// ImageFor returns the image model of a tenant's images: the one the
// catalogue routes them to, else the worker's.
func (m *Models) ImageFor(ctx context.Context, tenantID int64) (ai.ImageModel, error) {
	if m.router != nil {
		img, ok, err := m.router.Image(ctx, tenantID)
		if err != nil || ok {
			return img, err
		}
	}
	if m.image == nil {
		return nil, errs.Permanent(errors.New("the worker has no image model"))
	}
	return m.image, nil
}

// TenantModels says which models serve a tenant: ok is false when the
// tenant has none of its own and the worker's serve it. An error that no
// retry fixes (credentials that cannot be decrypted) is errs.Permanent.
type TenantModels interface {
	ForTenant(ctx context.Context, tenantID int64) (m ai.TextModels, ok bool, err error)
}
