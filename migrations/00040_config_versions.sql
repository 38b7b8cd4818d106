-- +goose Up
-- config_versions: a version of what a job's stage reads of a tenant's
-- configuration besides its subject (#24): its AI settings, prompt
-- overrides, model choices, plan, and its sites' link inventories (tenant
-- 0: the model catalogue and the operator's stage routes, shared by all).
-- Triggers bump a tenant's version in the transaction of any change to
-- those rows; a job's start statement returns its tenant's version and the
-- shared one, and the worker keeps what it read under them
-- (store.configCache), so that a job reads them only when they changed.
CREATE TABLE config_versions (
    tenant_id bigint PRIMARY KEY,
    version   bigint NOT NULL DEFAULT 1
);

-- +goose StatementBegin
CREATE FUNCTION bump_config_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO config_versions (tenant_id) SELECT DISTINCT tenant_id FROM old_rows
        ON CONFLICT (tenant_id) DO UPDATE SET version = config_versions.version + 1;
    ELSE
        INSERT INTO config_versions (tenant_id) SELECT DISTINCT tenant_id FROM new_rows
        ON CONFLICT (tenant_id) DO UPDATE SET version = config_versions.version + 1;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION bump_shared_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO config_versions (tenant_id) VALUES (0)
    ON CONFLICT (tenant_id) DO UPDATE SET version = config_versions.version + 1;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION bump_tenant_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO config_versions (tenant_id) VALUES (NEW.id)
    ON CONFLICT (tenant_id) DO UPDATE SET version = config_versions.version + 1;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_ai_settings', 'prompt_templates', 'tenant_stage_models', 'link_inventory'] LOOP
        EXECUTE format('CREATE TRIGGER %1$s_config_ins AFTER INSERT ON %1$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION bump_config_versions()', t);
        EXECUTE format('CREATE TRIGGER %1$s_config_upd AFTER UPDATE ON %1$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION bump_config_versions()', t);
        EXECUTE format('CREATE TRIGGER %1$s_config_del AFTER DELETE ON %1$s REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION bump_config_versions()', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['ai_models', 'ai_stage_routes'] LOOP
        EXECUTE format('CREATE TRIGGER %1$s_config AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %1$s
            FOR EACH STATEMENT EXECUTE FUNCTION bump_shared_config_version()', t);
    END LOOP;
END $$;
-- +goose StatementEnd

CREATE TRIGGER tenants_plan_config AFTER UPDATE OF plan ON tenants
    FOR EACH ROW WHEN (OLD.plan IS DISTINCT FROM NEW.plan) EXECUTE FUNCTION bump_tenant_config_version();

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_ai_settings', 'prompt_templates', 'tenant_stage_models', 'link_inventory'] LOOP
        EXECUTE format('DROP TRIGGER %1$s_config_ins ON %1$s', t);
        EXECUTE format('DROP TRIGGER %1$s_config_upd ON %1$s', t);
        EXECUTE format('DROP TRIGGER %1$s_config_del ON %1$s', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['ai_models', 'ai_stage_routes'] LOOP
        EXECUTE format('DROP TRIGGER %1$s_config ON %1$s', t);
    END LOOP;
END $$;
-- +goose StatementEnd
DROP TRIGGER tenants_plan_config ON tenants;
DROP FUNCTION bump_tenant_config_version();
DROP FUNCTION bump_shared_config_version();
DROP FUNCTION bump_config_versions();
DROP TABLE config_versions;
