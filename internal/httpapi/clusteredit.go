package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Editing clusters (#21): rename, lock, merge, split, move keywords in
// (from other clusters or from none) and take them out. Each edit is one
// transaction of the store's and one audit entry. Edits through the API
// are a user's: a locked cluster accepts them (locking stops automatic
// clustering, not its editor).

// The lengths of a cluster's name and description, as the model's are
// held to.
const (
	maxClusterName        = 80
	maxClusterDescription = 300
)

// clusterPatch is the body of PATCH /v1/clusters/{id}; a field left out
// or null is kept.
type clusterPatch struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Locked      *bool   `json:"locked"`
}

func (r clusterPatch) validate() error {
	v := &errs.ValidationError{}
	if r.Name == nil && r.Description == nil && r.Locked == nil {
		v.Add("name", "give a name, a description, locked or any of them")
	}
	if r.Name != nil {
		v.CheckText("name", *r.Name, 1, maxClusterName)
	}
	if r.Description != nil {
		v.CheckText("description", *r.Description, 1, maxClusterDescription)
	}
	return v.OrNil()
}

// trimmedPtr returns a pointer to *p without surrounding spaces; nil stays nil.
func trimmedPtr(p *string) *string {
	if p == nil {
		return nil
	}
	t := strings.TrimSpace(*p)
	return &t
}

// renameCluster names, describes, locks or unlocks a cluster (a name or a
// description makes its name_source user): the fix for a cluster named by
// fallback, or any name an editor prefers.
func (s *Server) renameCluster(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req clusterPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	cl, err := s.store.UpdateCluster(c.Request().Context(), principal(c).TenantID, id,
		store.ClusterPatch{Name: trimmedPtr(req.Name), Description: trimmedPtr(req.Description), Locked: req.Locked}, store.ByUser)
	if err != nil {
		return nameConflict(err)
	}
	target := fmt.Sprintf("cluster:%d", id)
	if req.Name != nil || req.Description != nil {
		s.audit(c, "cluster.rename", target)
	}
	if req.Locked != nil {
		s.audit(c, map[bool]string{true: "cluster.lock", false: "cluster.unlock"}[*req.Locked], target)
	}
	return c.JSON(http.StatusOK, cl)
}

// nameConflict makes a clash of cluster names a conflict naming the field
// name.
func nameConflict(err error) error {
	var taken *store.NameTakenError
	if errors.As(err, &taken) {
		return errs.Public(&fieldConflict{field: "name", problem: "is taken: " + taken.Error(), err: err}, "%s", taken.Error())
	}
	return err
}

// clusterMerge is the body of POST /v1/clusters/merge.
type clusterMerge struct {
	ClusterIDs []int64 `json:"cluster_ids"`
	Into       int64   `json:"into"`
	Name       *string `json:"name"`
}

func (s *Server) mergeClusters(c echo.Context) error {
	var req clusterMerge
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "cluster_ids", req.ClusterIDs)
	if req.Into <= 0 {
		v.Add("into", "must be the id of the cluster to merge into")
	}
	for _, id := range req.ClusterIDs {
		if id == req.Into {
			v.Add("cluster_ids", "holds cluster %d, the one merged into: a cluster cannot be merged into itself", id)
		}
	}
	if req.Name != nil {
		v.CheckText("name", *req.Name, 1, maxClusterName)
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	name := ""
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	cl, err := s.store.MergeClusters(c.Request().Context(), principal(c).TenantID, req.Into, req.ClusterIDs, name, store.ByUser)
	if err != nil {
		return nameConflict(err)
	}
	s.audit(c, "cluster.merge", fmt.Sprintf("cluster:%d <- %s", req.Into, joinIDs(req.ClusterIDs)))
	return c.JSON(http.StatusOK, cl)
}

// clusterSplit is the body of POST /v1/clusters/{id}/split.
type clusterSplit struct {
	KeywordIDs  []int64 `json:"keyword_ids"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

func (s *Server) splitCluster(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req clusterSplit
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "keyword_ids", req.KeywordIDs)
	v.CheckText("name", req.Name, 1, maxClusterName)
	if req.Description != nil {
		v.CheckText("description", *req.Description, 1, maxClusterDescription)
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	description := ""
	if req.Description != nil {
		description = strings.TrimSpace(*req.Description)
	}
	cl, err := s.store.SplitCluster(c.Request().Context(), principal(c).TenantID, id, req.KeywordIDs,
		strings.TrimSpace(req.Name), description, store.ByUser)
	if err != nil {
		return nameConflict(err)
	}
	s.audit(c, "cluster.split", fmt.Sprintf("cluster:%d -> cluster:%d", id, cl.ID))
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/clusters/%d", cl.ID))
	return c.JSON(http.StatusCreated, cl)
}

// keywordIDs is the body of the routes that move keywords.
type keywordIDs struct {
	KeywordIDs []int64 `json:"keyword_ids"`
}

// moveKeywords puts keywords into a cluster: from other clusters of its
// site or from none (assigning outliers).
func (s *Server) moveKeywords(c echo.Context) error {
	return s.editKeywords(c, "cluster.keywords.add", s.store.MoveKeywords)
}

// removeKeywords takes keywords out of a cluster: they become outliers.
func (s *Server) removeKeywords(c echo.Context) error {
	return s.editKeywords(c, "cluster.keywords.remove", s.store.RemoveKeywords)
}

func (s *Server) editKeywords(c echo.Context, action string,
	edit func(ctx context.Context, tenantID, id int64, ids []int64, by store.Editor) (store.Cluster, error)) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req keywordIDs
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "keyword_ids", req.KeywordIDs)
	if err := v.OrNil(); err != nil {
		return err
	}
	cl, err := edit(c.Request().Context(), principal(c).TenantID, id, req.KeywordIDs, store.ByUser)
	if err != nil {
		return err
	}
	s.audit(c, action, fmt.Sprintf("cluster:%d keywords %s", id, joinIDs(req.KeywordIDs)))
	return c.JSON(http.StatusOK, cl)
}

// listClusterKeywords answers a page of a cluster's keywords, by id.
func (s *Server) listClusterKeywords(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	kws, err := s.store.ClusterKeywordsPage(c.Request().Context(), principal(c).TenantID, id, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(kws, p, func(k store.Keyword) int64 { return k.ID }))
}

// joinIDs writes ids for an audit target, at most 20 of them.
func joinIDs(ids []int64) string {
	parts := make([]string, 0, min(len(ids), 21))
	for i, id := range ids {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ids)-20))
			break
		}
		parts = append(parts, fmt.Sprint(id))
	}
	return strings.Join(parts, ",")
}
