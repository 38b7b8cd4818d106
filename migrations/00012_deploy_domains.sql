-- +goose Up
-- On the operator's shared panel (deployments.panel = 'operator': the
-- panel of EASYPANEL_URL, used by every tenant without a panel of its
-- own) a domain belongs to at most one live deployment, so that no tenant
-- can route another's domain to its own app. A destroyed deployment has
-- left the panel and frees its domain; deployments on a tenant's own panel
-- (PUT /v1/easypanel) are the tenant's business. Domains are stored in
-- lower case; lower() keeps the rule case-insensitive whatever wrote them.
--
-- Deployments that already share a domain stop the migration: which one
-- keeps the domain is the operator's choice (destroy the others, or change
-- their domain by hand), not this file's.
-- +goose StatementBegin
DO $$
DECLARE
    dup record;
BEGIN
    SELECT lower(domain) AS domain, string_agg(id::text, ', ' ORDER BY id) AS ids INTO dup
    FROM deployments WHERE panel = 'operator' AND status <> 'destroyed'
    GROUP BY lower(domain) HAVING count(*) > 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'deployments % on the operator''s panel share the domain %: keep one, destroy the others or change their domain, then migrate again',
            dup.ids, dup.domain;
    END IF;
END
$$;
-- +goose StatementEnd

CREATE UNIQUE INDEX deployments_operator_domain ON deployments (lower(domain))
    WHERE panel = 'operator' AND status <> 'destroyed';

-- +goose Down
DROP INDEX deployments_operator_domain;
