// Package billing lets tenants pay for themselves through Stripe (#26):
// the tenant's Stripe customer (created once), Checkout Sessions for a
// plan or a credit pack, Customer Portal sessions, the tenant's invoices,
// and the webhook: an event's signature is verified, the event stored by
// its id and a task enqueued that applies it once (ApplyEvent, run by the
// worker). Without Stripe keys there is no Service and billing is off.
package billing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v84"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Store is what billing needs of the store.
type Store interface {
	GetTenant(ctx context.Context, id int64) (store.Tenant, error)
	BillingAccount(ctx context.Context, tenantID int64) (store.BillingAccount, error)
	RememberCustomer(ctx context.Context, tenantID int64, customerID string) (string, error)
	RecordStripeEvent(ctx context.Context, id, typ string, created time.Time, payload []byte) (bool, error)
	GetStripeEvent(ctx context.Context, id string) (store.StripeEvent, error)
}

// Enqueuer puts tasks on the queue (an *asynq.Client).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Service is billing through Stripe.
type Service struct {
	client        *stripe.Client
	webhookSecret string
	returnURL     string
	store         Store
	queue         Enqueuer
}

// New returns the billing service of cfg, or nil when billing is off (no
// Stripe keys). httpClient, if not nil, carries the calls to Stripe.
func New(cfg config.StripeConfig, st Store, queue Enqueuer, httpClient *http.Client) *Service {
	if !cfg.Enabled() {
		return nil
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	bc := &stripe.BackendConfig{HTTPClient: httpClient, MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	return &Service{
		client:        stripe.NewClient(cfg.SecretKey.Reveal(), stripe.WithBackends(stripe.NewBackendsWithConfig(bc))),
		webhookSecret: cfg.WebhookSecret.Reveal(),
		returnURL:     cfg.ReturnURL,
		store:         st,
		queue:         queue,
	}
}

// unavailable marks a failed call to Stripe as Stripe's unavailability
// (a 503 naming Stripe; the reply's text stays in the logs).
func unavailable(op string, err error) error {
	return errs.Unavailable("Stripe", fmt.Errorf("%s: %w", op, err))
}

// Customer returns the tenant's Stripe customer, creating it the first
// time. The creation carries an idempotency key of the tenant's, so that
// two concurrent first calls (or a retry after a lost answer) make one
// customer; the store keeps the first it is told.
func (s *Service) Customer(ctx context.Context, tenantID int64) (string, error) {
	acc, err := s.store.BillingAccount(ctx, tenantID)
	if err == nil {
		return acc.CustomerID, nil
	}
	if !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	t, err := s.store.GetTenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	params := &stripe.CustomerCreateParams{Name: stripe.String(t.Name),
		Metadata: map[string]string{"presswork_tenant_id": strconv.FormatInt(t.ID, 10), "presswork_tenant_slug": t.Slug}}
	params.SetIdempotencyKey(fmt.Sprintf("presswork-customer-%d-%d", t.ID, t.CreatedAt.Unix()))
	c, err := s.client.V1Customers.Create(ctx, params)
	if err != nil {
		return "", unavailable("create customer", err)
	}
	return s.store.RememberCustomer(ctx, tenantID, c.ID)
}

// Session is a Stripe-hosted page to send the owner to.
type Session struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// CheckoutPlan starts a Checkout Session subscribing the tenant to the
// plan's price.
func (s *Service) CheckoutPlan(ctx context.Context, tenantID int64, plan store.Plan) (Session, error) {
	if plan.StripePriceID == nil || *plan.StripePriceID == "" {
		return Session{}, errs.Invalid("plan", "plan %q is not for sale (it has no Stripe price)", plan.Name)
	}
	meta := map[string]string{"presswork_tenant_id": strconv.FormatInt(tenantID, 10), "presswork_plan": plan.Name}
	return s.checkout(ctx, tenantID, stripe.CheckoutSessionModeSubscription, *plan.StripePriceID, meta)
}

// CheckoutPack starts a Checkout Session buying a credit pack once; the
// credits it grants are fixed now, in the session's metadata.
func (s *Service) CheckoutPack(ctx context.Context, tenantID int64, pack store.CreditPack) (Session, error) {
	if !pack.Active {
		return Session{}, errs.Invalid("pack_id", "credit pack %d is not for sale", pack.ID)
	}
	meta := map[string]string{"presswork_tenant_id": strconv.FormatInt(tenantID, 10),
		"presswork_pack_id": strconv.FormatInt(pack.ID, 10), "presswork_credits": strconv.FormatInt(pack.Credits, 10)}
	return s.checkout(ctx, tenantID, stripe.CheckoutSessionModePayment, pack.StripePriceID, meta)
}

func (s *Service) checkout(ctx context.Context, tenantID int64, mode stripe.CheckoutSessionMode, price string,
	meta map[string]string) (Session, error) {
	customer, err := s.Customer(ctx, tenantID)
	if err != nil {
		return Session{}, err
	}
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(mode)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(strconv.FormatInt(tenantID, 10)),
		LineItems:         []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(1)}},
		SuccessURL:        stripe.String(s.returnURL + "?checkout=success"),
		CancelURL:         stripe.String(s.returnURL + "?checkout=canceled"),
		Metadata:          meta,
	}
	if mode == stripe.CheckoutSessionModePayment {
		params.PaymentIntentData = &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta}
	} else {
		params.SubscriptionData = &stripe.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta}
	}
	cs, err := s.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return Session{}, unavailable("create checkout session", err)
	}
	return Session{ID: cs.ID, URL: cs.URL}, nil
}

// Portal opens a Customer Portal session (payment methods, invoices,
// cancellation) for the tenant.
func (s *Service) Portal(ctx context.Context, tenantID int64) (Session, error) {
	customer, err := s.Customer(ctx, tenantID)
	if err != nil {
		return Session{}, err
	}
	ps, err := s.client.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{
		Customer: stripe.String(customer), ReturnURL: stripe.String(s.returnURL)})
	if err != nil {
		return Session{}, unavailable("create portal session", err)
	}
	return Session{ID: ps.ID, URL: ps.URL}, nil
}

// Invoice is one of the tenant's invoices as Stripe has it.
type Invoice struct {
	ID          string    `json:"id"`
	Number      string    `json:"number"`
	Status      string    `json:"status"`
	AmountDue   int64     `json:"amount_due"`
	AmountPaid  int64     `json:"amount_paid"`
	Currency    string    `json:"currency"`
	Created     time.Time `json:"created"`
	HostedURL   string    `json:"hosted_invoice_url"`
	PDF         string    `json:"invoice_pdf"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
}

// Invoices returns the tenant's newest invoices from Stripe (none when it
// has no customer yet).
func (s *Service) Invoices(ctx context.Context, tenantID int64, limit int) ([]Invoice, error) {
	out := []Invoice{}
	acc, err := s.store.BillingAccount(ctx, tenantID)
	if errors.Is(err, errs.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	params := &stripe.InvoiceListParams{Customer: stripe.String(acc.CustomerID)}
	params.Limit = stripe.Int64(int64(limit))
	for inv, err := range s.client.V1Invoices.List(ctx, params) {
		if err != nil {
			return nil, unavailable("list invoices", err)
		}
		out = append(out, Invoice{ID: inv.ID, Number: inv.Number, Status: string(inv.Status), AmountDue: inv.AmountDue,
			AmountPaid: inv.AmountPaid, Currency: string(inv.Currency), Created: time.Unix(inv.Created, 0).UTC(),
			HostedURL: inv.HostedInvoiceURL, PDF: inv.InvoicePDF, PeriodStart: time.Unix(inv.PeriodStart, 0).UTC(),
			PeriodEnd: time.Unix(inv.PeriodEnd, 0).UTC()})
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// InvoicePaymentIntent returns the payment intent that paid an invoice
// (its invoice payments, from Stripe), "" when none did; a refund of the
// invoice's charge names it. Stripe leaves an invoice's payments out of
// its events unless asked.
func (s *Service) InvoicePaymentIntent(ctx context.Context, invoiceID string) (string, error) {
	params := &stripe.InvoicePaymentListParams{Invoice: stripe.String(invoiceID)}
	params.Limit = stripe.Int64(10)
	for p, err := range s.client.V1InvoicePayments.List(ctx, params) {
		if err != nil {
			return "", unavailable("list invoice payments", err)
		}
		if p.Payment != nil && p.Payment.PaymentIntent != nil && p.Payment.PaymentIntent.ID != "" {
			return p.Payment.PaymentIntent.ID, nil
		}
	}
	return "", nil
}
