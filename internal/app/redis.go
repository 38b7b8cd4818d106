package app

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/config"
)

// RedisConnOpt returns how every process reaches Redis, for asynq and for
// the go-redis client MakeRedisClient builds (the scheduler's lease, the
// providers' rate limits):
//
//   - REDIS_URL (the default): one server, an asynq.RedisClientOpt;
//   - REDIS_SENTINEL_ADDRS and REDIS_SENTINEL_MASTER: the master the
//     Sentinels name, found again after a failover, an
//     asynq.RedisFailoverClientOpt;
//   - REDIS_CLUSTER_ADDRS: a Redis Cluster, an asynq.RedisClusterClientOpt.
//
// config.Load has validated the combination; a Config built by hand that
// names Sentinels and a Cluster at once, or Sentinels without a master, is
// an error here too.
func RedisConnOpt(cfg config.Config) (asynq.RedisConnOpt, error) {
	rc := cfg.Redis
	var tlsConfig *tls.Config
	if rc.TLS {
		// The server name is taken from each address dialled.
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if len(rc.SentinelAddrs) > 0 && len(rc.ClusterAddrs) > 0 {
		return nil, errors.New("REDIS_SENTINEL_ADDRS and REDIS_CLUSTER_ADDRS are mutually exclusive")
	}
	switch rc.Mode() {
	case config.RedisSentinel:
		if rc.SentinelMaster == "" {
			return nil, errors.New("REDIS_SENTINEL_MASTER is required with REDIS_SENTINEL_ADDRS")
		}
		return asynq.RedisFailoverClientOpt{
			MasterName:       rc.SentinelMaster,
			SentinelAddrs:    append([]string(nil), rc.SentinelAddrs...),
			SentinelUsername: rc.SentinelUsername,
			SentinelPassword: rc.SentinelPassword,
			Username:         rc.Username,
			Password:         rc.Password,
			DB:               rc.DB,
			TLSConfig:        tlsConfig,
		}, nil
	case config.RedisCluster:
		if rc.DB != 0 {
			return nil, errors.New("REDIS_DB is not supported by Redis Cluster (database 0 only)")
		}
		return asynq.RedisClusterClientOpt{
			Addrs:     append([]string(nil), rc.ClusterAddrs...),
			Username:  rc.Username,
			Password:  rc.Password,
			TLSConfig: tlsConfig,
		}, nil
	}
	opt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return opt, nil
}
