// Package deploy holds no code: it is the home of the deployment files
// (Dockerfile, docker-compose.yml, k8s/) and of the test that checks them
// against the Kubernetes API types and the processes' own configuration,
// since neither Docker nor a cluster runs where the tests run.
package deploy
