package worker

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
)

// minSecretLen is the shortest value masked as a secret: secret.Scrub's
// floor. A shorter one (an environment's WP_DEBUG=1) would blank ordinary
// words ("blog1.example.com") in every message.
const minSecretLen = 4

// remember adds values to the secrets masked, each once; values shorter
// than minSecretLen are skipped.
func (dp *deployJob) remember(values ...string) {
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(dp.secrets, v) {
			dp.secrets = append(dp.secrets, v)
		}
	}
}

// learnSecrets adds the deployment's own secrets (its database passwords,
// its environment's values) to those masked, whatever step the action
// starts at: a redeploy, or an attempt resumed past the steps that open
// them, may still meet them in the panel's words (a build log quoting the
// environment). A value that cannot be opened here fails the step that
// needs it.
func (dp *deployJob) learnSecrets() {
	for _, pw := range []struct {
		enc  []byte
		what string
	}{{dp.d.DBPasswordEnc, "db-password"}, {dp.d.DBRootPasswordEnc, "db-root-password"}} {
		if len(pw.enc) > 0 {
			_, _ = dp.openSecret(pw.enc, pw.what)
		}
	}
	_, _ = dp.userEnv()
}

// sealNew makes a password from crypto/rand and seals it.
func (dp *deployJob) sealNew(what string) ([]byte, error) {
	return dp.w.box.Seal([]byte(rand.Text()), secret.DeploymentSecretAD(dp.d.TenantID, dp.d.SiteID, what))
}

// openSecret opens one of the deployment's sealed values and remembers it
// as a secret to mask.
func (dp *deployJob) openSecret(enc []byte, what string) (string, error) {
	b, err := dp.w.box.Open(enc, secret.DeploymentSecretAD(dp.d.TenantID, dp.d.SiteID, what))
	if err != nil {
		return "", errs.Permanent(fmt.Errorf("open the deployment's %s: %w", what, err))
	}
	dp.remember(string(b))
	return string(b), nil
}

// userEnv opens the user's environment variables (none when the deployment
// has none) and remembers their values as secrets to mask.
func (dp *deployJob) userEnv() (map[string]string, error) {
	user := map[string]string{}
	if len(dp.d.EnvEnc) == 0 {
		return user, nil
	}
	raw, err := dp.openSecret(dp.d.EnvEnc, "env")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(raw), &user); err != nil {
		return nil, errs.Permanent(fmt.Errorf("unreadable environment: %w", err))
	}
	for _, v := range user {
		dp.remember(v)
	}
	return user, nil
}

// maskedError is err with every secret of the action masked out of its
// text: the worker logs a failed job's error in full.
type maskedError struct {
	err     error
	secrets []string
}

func (e maskedError) Error() string {
	return string(easypanel.Mask([]byte(e.err.Error()), e.secrets...))
}

func (e maskedError) Unwrap() error { return e.err }
