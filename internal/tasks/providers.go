package tasks

import (
	"context"
	"errors"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// Providers are the AI models that serve a tenant's jobs.
type Providers struct {
	Text     ai.TextModel
	Embedder ai.Embedder
}

// ProviderSource says which providers serve a tenant: ok is false when the
// tenant has none of its own and the worker's serve it. An error that no
// retry fixes (credentials that cannot be decrypted) is errs.Permanent.
type ProviderSource interface {
	ForTenant(ctx context.Context, tenantID int64) (p Providers, ok bool, err error)
}

// aiFor returns the writer and embedder of a tenant's job: the tenant's own
// providers if it has them, else the worker's, and the tenant's active
// prompt override of stage, if any.
func (h *Handlers) aiFor(ctx context.Context, tenantID int64, stage ai.Stage) (*ai.Writer, ai.Embedder, error) {
	w, emb := h.Writer, h.Embedder
	if h.Tenants != nil {
		p, ok, err := h.Tenants.ForTenant(ctx, tenantID)
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
	override, err := h.Store.ActivePrompt(ctx, tenantID, string(stage))
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

// imageModel returns the worker's image model (tenants bring text and
// embedding keys only).
func (h *Handlers) imageModel() (ai.ImageModel, error) {
	if h.Image == nil {
		return nil, errs.Permanent(errors.New("the worker has no image model"))
	}
	return h.Image, nil
}
