package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
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
}

// For returns the writer and embedder of a tenant's job: the tenant's own
// providers if it has them, else the worker's, and the tenant's active
// prompt override of stage, if any. The writer retries each call after a
// passing fault (m.retry).
func (m *Models) For(ctx context.Context, tenantID int64, stage ai.Stage) (*ai.Writer, ai.Embedder, error) {
	if m.writer == nil {
		return nil, nil, errs.Permanent(errors.New("the worker has no text model"))
	}
	w, emb := m.writer.WithRetry(m.retry), m.embedder
	if m.tenants != nil {
		p, ok, err := m.tenants.ForTenant(ctx, tenantID)
		if err != nil {
			return nil, nil, fmt.Errorf("AI providers: %w", err)
		}
		if ok {
			if w, err = w.WithModel(p.Text); err != nil {
				return nil, nil, errs.Permanent(err)
			}
			emb = p.Embedder
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

// EmbedderFor returns the embedder of a tenant's job: the tenant's own if
// it has providers of its own, else the worker's (nil when the worker has
// none).
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
	return m.embedder, nil
}

// ImageModel returns the worker's image model.
func (m *Models) ImageModel() (ai.ImageModel, error) {
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
