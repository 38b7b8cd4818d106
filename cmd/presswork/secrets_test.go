package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

func keyBytes(id byte) []byte { return bytes.Repeat([]byte{id * 7}, 32) }

func box(t *testing.T, current byte, ids ...byte) *secret.Box {
	t.Helper()
	keys := map[byte][]byte{}
	for _, id := range ids {
		keys[id] = keyBytes(id)
	}
	b, err := secret.NewBox(current, keys)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seal(t *testing.T, b *secret.Box, plain string, ad []byte) []byte {
	t.Helper()
	ct, err := b.Seal([]byte(plain), ad)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// sealedFixture fills every sealed column of n tenants under box b and
// returns the plaintext of each value by "table.column row".
func sealedFixture(t *testing.T, st *store.Store, b *secret.Box, n int) map[string]string {
	t.Helper()
	ctx := t.Context()
	want := map[string]string{}
	for i := range n {
		tn, err := st.CreateTenant(ctx, store.NewTenant{Slug: fmt.Sprintf("rotate-%d", i), Name: "Rotate", Plan: "pro", Credits: 10})
		if err != nil {
			t.Fatal(err)
		}
		sitePW := fmt.Sprintf("site pw %d", i)
		name, url, user := fmt.Sprintf("Blog %d", i), "https://blog.example.com", "admin"
		site, err := st.CreateSite(ctx, tn.ID, store.SiteFields{Name: &name, URL: &url, WPUser: &user,
			AppPasswordEnc: seal(t, b, sitePW, secret.SitePasswordAD(tn.ID))})
		if err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("sites.app_password_enc %d", site.ID)] = sitePW

		key := fmt.Sprintf("sk-rotate-key-%d", i)
		if _, err := st.SetTenantOpenAIKey(ctx, tn.ID, seal(t, b, key, secret.OpenAIKeyAD(tn.ID)), "…abcd", nil); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("tenant_ai_settings.openai_api_key_enc %d", tn.ID)] = key

		panelPW := fmt.Sprintf("panel pw %d", i)
		if _, err := st.PutPanelCredentials(ctx, store.PanelCredentials{TenantID: tn.ID, URL: "https://panel.example.com",
			Email: "ops@example.com", PasswordEnc: seal(t, b, panelPW, secret.PanelPasswordAD(tn.ID)), Project: "sites"}); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("panel_credentials.password_enc %d", tn.ID)] = panelPW

		env := fmt.Sprintf(`{"API_TOKEN":"env secret %d"}`, i)
		d, _, err := st.SaveDeployment(ctx, store.Deployment{TenantID: tn.ID, SiteID: site.ID, Panel: "tenant", Project: "sites",
			Source: store.DeploySource{Type: "image", Image: "wordpress:6"},
			EnvEnc: seal(t, b, env, secret.DeploymentSecretAD(tn.ID, site.ID, "env")),
			Domain: "blog.example.com", HTTPS: true},
			store.NewJob{ID: fmt.Sprintf("deploy-rotate-%d", i), Type: "site:deploy", Queue: "default"})
		if err != nil {
			t.Fatal(err)
		}
		dbPW, rootPW := fmt.Sprintf("db pw %d", i), fmt.Sprintf("root pw %d", i)
		if _, err := st.ChooseDeploymentNames(ctx, tn.ID, d.ID, store.DeploymentNames{AppService: "app", DBService: "db",
			DBName: "wp", DBUser: "wp",
			DBPasswordEnc:     seal(t, b, dbPW, secret.DeploymentSecretAD(tn.ID, site.ID, "db-password")),
			DBRootPasswordEnc: seal(t, b, rootPW, secret.DeploymentSecretAD(tn.ID, site.ID, "db-root-password"))}); err != nil {
			t.Fatal(err)
		}
		hookSecret, hookURL := fmt.Sprintf("whsec_rotate%d", i), "https://hooks.example.com/presswork"
		hook, err := st.CreateWebhook(ctx, tn.ID, store.WebhookFields{URL: &hookURL, Events: []string{"job.failed"},
			SecretEnc: seal(t, b, hookSecret, secret.WebhookSecretAD(tn.ID))})
		if err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("webhooks.secret_enc %d", hook.ID)] = hookSecret
		want[fmt.Sprintf("deployments.env_enc %d", d.ID)] = env
		want[fmt.Sprintf("deployments.db_password_enc %d", d.ID)] = dbPW
		want[fmt.Sprintf("deployments.db_root_password_enc %d", d.ID)] = rootPW
	}
	return want
}

// openAll opens every sealed value with b and returns plaintexts by
// "table.column row" and ciphertexts likewise.
func openAll(t *testing.T, st *store.Store, b *secret.Box) (plain map[string]string, sealed map[string]string) {
	t.Helper()
	plain, sealed = map[string]string{}, map[string]string{}
	for _, col := range store.SealedColumns {
		vals, err := st.SealedValues(t.Context(), col, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			k := fmt.Sprintf("%s %d", col, v.RowKey)
			ad, err := associatedData(v)
			if err != nil {
				t.Fatal(err)
			}
			p, err := b.Open(v.Value, ad)
			if err != nil {
				t.Errorf("%s does not open: %v", k, err)
				continue
			}
			plain[k] = string(p)
			sealed[k] = string(v.Value)
		}
	}
	return plain, sealed
}

// TestSealedColumnsComplete keeps store.SealedColumns in step with the
// schema: every bytea *_enc column is rotated.
func TestSealedColumnsComplete(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t)
	got, err := st.SealedColumnNames(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range store.SealedColumns {
		listed = append(listed, c.String())
	}
	slices.Sort(listed)
	if diff := cmp.Diff(got, listed); diff != "" {
		t.Errorf("sealed columns of the schema (-) vs store.SealedColumns (+):\n%s", diff)
	}
}

func TestRotateSecrets(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t)
	ctx := t.Context()
	want := sealedFixture(t, st, box(t, 1, 1), 3)

	// Key 2 becomes current, key 1 stays as an old key.
	rotating := box(t, 2, 1, 2)
	var out bytes.Buffer
	if err := runSecrets(ctx, st, st, rotating, false, 2, &out); err != nil {
		t.Fatalf("rotate: %v\n%s", err, out.String())
	}
	for _, col := range []string{"sites.app_password_enc", "tenant_ai_settings.openai_api_key_enc",
		"panel_credentials.password_enc", "deployments.db_password_enc", "deployments.db_root_password_enc", "deployments.env_enc",
		"webhooks.secret_enc"} {
		if !strings.Contains(out.String(), col) || !regexpMatch(t, col+`\s+3 values,\s+3 re-encrypted,\s+0 already`, out.String()) {
			t.Errorf("report lacks %s with 3 re-encrypted:\n%s", col, out.String())
		}
	}

	// Only key 2 configured: everything opens, with the same plaintext.
	plain, sealed := openAll(t, st, box(t, 2, 2))
	if diff := cmp.Diff(want, plain); diff != "" {
		t.Errorf("values after rotation (-want +got):\n%s", diff)
	}

	// A second run changes nothing.
	out.Reset()
	if err := runSecrets(ctx, st, st, rotating, false, 500, &out); err != nil {
		t.Fatalf("second rotate: %v", err)
	}
	if regexpMatch(t, `[1-9]\d* re-encrypted`, out.String()) {
		t.Errorf("second run re-encrypted something:\n%s", out.String())
	}
	_, sealedAgain := openAll(t, st, box(t, 2, 2))
	if diff := cmp.Diff(sealed, sealedAgain); diff != "" {
		t.Errorf("a second run changed ciphertexts (-first +second):\n%s", diff)
	}
}

// TestRotateRefusesUndecryptable: a value no configured key opens (here a
// site password under key 3, which is not configured, and a value moved to
// another tenant) stops the rotation before anything changes, naming it.
func TestRotateRefusesUndecryptable(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t)
	ctx := t.Context()
	sealedFixture(t, st, box(t, 1, 1), 2)
	tn, err := st.CreateTenant(ctx, store.NewTenant{Slug: "stray", Name: "Stray", Plan: "pro"})
	if err != nil {
		t.Fatal(err)
	}
	name, url, user := "Stray", "https://stray.example.com", "admin"
	stray, err := st.CreateSite(ctx, tn.ID, store.SiteFields{Name: &name, URL: &url, WPUser: &user,
		AppPasswordEnc: seal(t, box(t, 3, 3), "pw", secret.SitePasswordAD(tn.ID))})
	if err != nil {
		t.Fatal(err)
	}
	_, before := openAll(t, st, box(t, 1, 1, 3))

	var out bytes.Buffer
	err = runSecrets(ctx, st, st, box(t, 2, 1, 2), false, 500, &out)
	if err == nil {
		t.Fatal("rotation with an undecryptable value succeeded")
	}
	if want := fmt.Sprintf("sites.app_password_enc row %d (sealed with key 3)", stray.ID); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
	_, after := openAll(t, st, box(t, 1, 1, 3))
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a refused rotation changed values:\n%s", diff)
	}
}

// TestRotateInterrupted: a rotation stopped half-way leaves every value
// readable with the old and new keys, and the next run finishes it.
func TestRotateInterrupted(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t)
	want := sealedFixture(t, st, box(t, 1, 1), 3)
	rotating := box(t, 2, 1, 2)
	ctx, cancel := context.WithCancel(t.Context())
	var n int
	interrupting := interruptingStore{Store: st, after: func() {
		if n++; n == 4 {
			cancel()
		}
	}}
	if _, err := rotateSecrets(ctx, interrupting, rotating, 100); err == nil {
		t.Fatal("interrupted rotation reported success")
	}
	plain, _ := openAll(t, st, rotating)
	if diff := cmp.Diff(want, plain); diff != "" {
		t.Errorf("values after an interrupted rotation (-want +got):\n%s", diff)
	}
	if _, err := rotateSecrets(t.Context(), st, rotating, 100); err != nil {
		t.Fatal(err)
	}
	plain, _ = openAll(t, st, box(t, 2, 2))
	if diff := cmp.Diff(want, plain); diff != "" {
		t.Errorf("values after finishing the rotation (-want +got):\n%s", diff)
	}
}

func regexpMatch(t *testing.T, pattern, s string) bool {
	t.Helper()
	return regexp.MustCompile(pattern).MatchString(s)
}

type interruptingStore struct {
	*store.Store
	after func()
}

func (s interruptingStore) ResealValue(ctx context.Context, col store.SealedColumn, rowKey int64,
	reseal func(store.SealedValue) ([]byte, bool, error)) (bool, error) {
	changed, err := s.Store.ResealValue(ctx, col, rowKey, reseal)
	s.after()
	return changed, err
}
