package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/billing"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Billing through Stripe (#26): the tenant's billing status, checkouts,
// portal and invoices; the operator's plans, credit packs and overview;
// Stripe's webhook. Without Stripe keys (s.billing nil) the status says
// billing is off, the calls to Stripe are refused with 409 and the
// webhook is not found; operators still edit the catalogue.

// errBillingOff refuses what needs Stripe when billing is off.
var errBillingOff = errs.Public(errs.ErrConflict,
	"billing through Stripe is off on this server (no STRIPE_SECRET_KEY); an operator grants credits")

// maxWebhookBody bounds a Stripe event (Stripe's are a few kB).
const maxWebhookBody = 512 << 10

// stripeWebhook answers POST /v1/stripe/webhook: 200 once the event is
// verified and stored and its task is on the queue; 400 for a bad
// signature (nothing stored); 503 when the database or the queue failed,
// so that Stripe sends it again.
func (s *Server) stripeWebhook(c echo.Context) error {
	if s.billing == nil {
		return errs.Public(errs.ErrNotFound, "billing through Stripe is off on this server")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebhookBody+1))
	if err != nil {
		return errs.Invalid("body", "could not be read")
	}
	if len(body) > maxWebhookBody {
		return errs.Invalid("body", "must be at most %d bytes", maxWebhookBody)
	}
	ev, err := s.billing.Receive(c.Request().Context(), body, c.Request().Header.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"received": ev.ID, "applied": ev.AppliedAt != nil})
}

// billingStatus is GET /v1/billing.
type billingStatus struct {
	Enabled            bool                   `json:"enabled"`
	Plan               string                 `json:"plan"`
	Status             string                 `json:"status"`
	Balance            int64                  `json:"credit_balance"`
	MonthlyCredits     int64                  `json:"monthly_credits"`
	SubscriptionStatus string                 `json:"subscription_status"`
	RenewsAt           *time.Time             `json:"renews_at"`
	CancelAtPeriodEnd  bool                   `json:"cancel_at_period_end"`
	PastDueSince       *time.Time             `json:"past_due_since"`
	Plans              []store.Plan           `json:"plans"`
	Packs              []store.CreditPack     `json:"credit_packs"`
	Payments           []store.BillingPayment `json:"payments"`
}

func (s *Server) getBilling(c echo.Context) error {
	ctx := c.Request().Context()
	tenantID := principal(c).TenantID
	t, err := s.store.GetTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	out := billingStatus{Enabled: s.billing != nil, Plan: t.Plan, Status: t.Status, Balance: t.CreditBalance}
	if out.Plans, err = s.store.ListPlans(ctx); err != nil {
		return err
	}
	for _, p := range out.Plans {
		if p.Name == t.Plan {
			out.MonthlyCredits = p.MonthlyCredits
		}
	}
	if out.Packs, err = s.store.ListPacks(ctx, true); err != nil {
		return err
	}
	if out.Payments, err = s.store.BillingPayments(ctx, tenantID, 20); err != nil {
		return err
	}
	acc, err := s.store.BillingAccount(ctx, tenantID)
	switch {
	case err == nil:
		out.SubscriptionStatus, out.RenewsAt = acc.SubscriptionStatus, acc.CurrentPeriodEnd
		out.CancelAtPeriodEnd, out.PastDueSince = acc.CancelAtPeriodEnd, acc.PastDueSince
	case !errors.Is(err, errs.ErrNotFound):
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// checkoutRequest is the body of POST /v1/billing/checkout: a plan or a
// credit pack, not both.
type checkoutRequest struct {
	Plan   *string `json:"plan"`
	PackID *int64  `json:"pack_id"`
}

func (s *Server) startCheckout(c echo.Context) error {
	var req checkoutRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if (req.Plan == nil) == (req.PackID == nil) {
		v := &errs.ValidationError{}
		v.Add("plan", "give a plan or a pack_id, not both")
		v.Add("pack_id", "give a plan or a pack_id, not both")
		return v
	}
	if req.Plan != nil && !slices.Contains(auth.Plans, *req.Plan) {
		return errs.Invalid("plan", "must be one of %s", strings.Join(auth.Plans, ", "))
	}
	if req.PackID != nil && *req.PackID <= 0 {
		return errs.Invalid("pack_id", "must be a credit pack's id (a positive whole number)")
	}
	if s.billing == nil {
		return errBillingOff
	}
	ctx := c.Request().Context()
	tenantID := principal(c).TenantID
	var sess billing.Session
	if req.Plan != nil {
		plan, err := s.store.GetPlan(ctx, *req.Plan)
		if errors.Is(err, errs.ErrNotFound) {
			return errs.Invalid("plan", "plan %q is not for sale", *req.Plan)
		}
		if err != nil {
			return err
		}
		if sess, err = s.billing.CheckoutPlan(ctx, tenantID, plan); err != nil {
			return err
		}
		s.audit(c, "billing.checkout", "plan:"+plan.Name)
	} else {
		pack, err := s.store.GetPack(ctx, *req.PackID)
		if errors.Is(err, errs.ErrNotFound) {
			return errs.Invalid("pack_id", "no credit pack %d", *req.PackID)
		}
		if err != nil {
			return err
		}
		if sess, err = s.billing.CheckoutPack(ctx, tenantID, pack); err != nil {
			return err
		}
		s.audit(c, "billing.checkout", fmt.Sprintf("pack:%d", pack.ID))
	}
	return c.JSON(http.StatusCreated, sess)
}

func (s *Server) startPortal(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if s.billing == nil {
		return errBillingOff
	}
	sess, err := s.billing.Portal(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sess)
}

func (s *Server) listInvoices(c echo.Context) error {
	limit, err := queryInt(c, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	if s.billing == nil {
		return errBillingOff
	}
	invs, err := s.billing.Invoices(c.Request().Context(), principal(c).TenantID, int(limit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[billing.Invoice]{Items: invs})
}

// The operator's catalogue.

// planRequest is the body of PUT /v1/admin/plans/:name.
type planRequest struct {
	StripePriceID  *string `json:"stripe_price_id"`
	MonthlyCredits int64   `json:"monthly_credits"`
	BulkInFlight   *int    `json:"bulk_inflight"`
	Description    string  `json:"description"`
}

func planName(c echo.Context) (string, error) {
	name := c.Param("name")
	if !slices.Contains(auth.Plans, name) {
		return "", errs.Public(errs.ErrNotFound, "no plan has that name (plans: %s)", strings.Join(auth.Plans, ", "))
	}
	return name, nil
}

func (s *Server) listPlansAdmin(c echo.Context) error {
	ps, err := s.store.ListPlans(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.Plan]{Items: ps})
}

func (s *Server) putPlan(c echo.Context) error {
	name, err := planName(c)
	if err != nil {
		return err
	}
	var req planRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.store.PutPlan(c.Request().Context(), store.Plan{Name: name, StripePriceID: req.StripePriceID,
		MonthlyCredits: req.MonthlyCredits, BulkInFlight: req.BulkInFlight, Description: req.Description})
	if errs.IsConflict(err) {
		return errs.Public(errs.ErrConflict, "another plan sells that Stripe price")
	}
	if err != nil {
		return err
	}
	s.audit(c, "plan.put", "plan:"+name)
	return c.JSON(http.StatusOK, p)
}

func (s *Server) deletePlan(c echo.Context) error {
	name, err := planName(c)
	if err != nil {
		return err
	}
	if err := s.store.DeletePlan(c.Request().Context(), name); err != nil {
		return err
	}
	s.audit(c, "plan.delete", "plan:"+name)
	return c.NoContent(http.StatusNoContent)
}

// packRequest is the body of POST /v1/admin/credit-packs and of PATCH
// /v1/admin/credit-packs/:id (where absent fields are kept).
type packRequest struct {
	Name          *string `json:"name"`
	StripePriceID *string `json:"stripe_price_id"`
	Credits       *int64  `json:"credits"`
	Active        *bool   `json:"active"`
}

// apply sets r's fields on p; a new pack needs every field but active.
// The store validates the values.
func (r packRequest) apply(p *store.CreditPack, create bool) error {
	v := &errs.ValidationError{}
	if r.Name != nil {
		p.Name = *r.Name
	} else if create {
		v.Add("name", "is required")
	}
	if r.StripePriceID != nil {
		p.StripePriceID = *r.StripePriceID
	} else if create {
		v.Add("stripe_price_id", "is required")
	}
	if r.Credits != nil {
		p.Credits = *r.Credits
	} else if create {
		v.Add("credits", "is required")
	}
	if r.Active != nil {
		p.Active = *r.Active
	}
	return v.OrNil()
}

func (s *Server) listPacksAdmin(c echo.Context) error {
	ps, err := s.store.ListPacks(c.Request().Context(), false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.CreditPack]{Items: ps})
}

func (s *Server) createPack(c echo.Context) error {
	var req packRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := store.CreditPack{Active: true}
	if err := req.apply(&p, true); err != nil {
		return err
	}
	p, err := s.store.CreatePack(c.Request().Context(), p)
	if errs.IsConflict(err) {
		return errs.Public(errs.ErrConflict, "a credit pack sells that Stripe price already")
	}
	if err != nil {
		return err
	}
	s.audit(c, "credit_pack.create", fmt.Sprintf("credit_pack:%d %s", p.ID, p.Name))
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/admin/credit-packs/%d", p.ID))
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) updatePack(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req packRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.store.GetPack(ctx, id)
	if err != nil {
		return err
	}
	if err := req.apply(&p, false); err != nil {
		return err
	}
	p, err = s.store.UpdatePack(ctx, p)
	if errs.IsConflict(err) {
		return errs.Public(errs.ErrConflict, "a credit pack sells that Stripe price already")
	}
	if err != nil {
		return err
	}
	s.audit(c, "credit_pack.update", fmt.Sprintf("credit_pack:%d %s", p.ID, p.Name))
	return c.JSON(http.StatusOK, p)
}

func (s *Server) deletePack(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeletePack(c.Request().Context(), id); err != nil {
		return err
	}
	s.audit(c, "credit_pack.delete", fmt.Sprintf("credit_pack:%d", id))
	return c.NoContent(http.StatusNoContent)
}

// billingOverview answers GET /v1/admin/billing/overview?days=N (30 by
// default, at most 366).
func (s *Server) billingOverview(c echo.Context) error {
	days, err := queryInt(c, "days", 30, 1, 366)
	if err != nil {
		return err
	}
	since := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -int(days-1))
	o, err := s.store.BillingOverview(c.Request().Context(), since)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}
