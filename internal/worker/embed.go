package worker

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

// embedChunk is the most texts one embeddings call sends; each chunk is
// cached as soon as it is answered.
const embedChunk = 500

// embeddingCache is the tenant's cache of text vectors by model.
type embeddingCache interface {
	CachedEmbeddings(ctx context.Context, tenantID int64, model string, hashes [][]byte) (map[string][]float32, error)
	CacheEmbeddings(ctx context.Context, tenantID int64, model string, hashes [][]byte, vectors [][]float32) error
}

// embedModel names an embedder's vectors as the cache and the kept
// centroids do.
func embedModel(embedder ai.Embedder) string {
	return fmt.Sprintf("%s/%d", embedder.Name(), embedder.Dimensions())
}

// textHash is the key of a text's vector in the embedding cache.
func textHash(text string) []byte {
	h := sha256.Sum256([]byte(text))
	return h[:]
}

// embedCached returns the vectors of texts: cached ones from the store,
// the others from the embedder, a chunk per call (each tried again by
// retry), each chunk cached as soon as it is answered.
func embedCached(ctx context.Context, cache embeddingCache, retry callRetry, tenantID int64, embedder ai.Embedder,
	texts []string) ([][]float32, ai.Usage, error) {
	var usage ai.Usage
	model := embedModel(embedder)
	hashes := make([][]byte, len(texts))
	for i, t := range texts {
		hashes[i] = textHash(t)
	}
	cached, err := cache.CachedEmbeddings(ctx, tenantID, model, hashes)
	if err != nil {
		return nil, usage, err
	}
	vectors := make([][]float32, len(texts))
	// A text asked for twice (a comparison's side that is also a keyword)
	// is embedded once: first holds the index of its first occurrence.
	var missing []int
	first := make(map[string]int, len(texts))
	for i, h := range hashes {
		if v, ok := cached[string(h)]; ok && len(v) == embedder.Dimensions() {
			vectors[i] = v
		} else if _, dup := first[string(h)]; !dup {
			first[string(h)] = i
			missing = append(missing, i)
		}
	}
	for chunk := range slices.Chunk(missing, embedChunk) {
		batch, batchHashes := make([]string, len(chunk)), make([][]byte, len(chunk))
		for j, i := range chunk {
			batch[j], batchHashes[j] = texts[i], hashes[i]
		}
		var got [][]float32
		err := retry.do(ctx, func() error {
			var u ai.Usage
			var err error
			got, u, err = embedder.Embed(ctx, batch)
			spent(ctx, store.UsageEmbedding, u)
			usage.Add(u)
			return err
		})
		if err != nil {
			return nil, usage, err
		}
		if err := cache.CacheEmbeddings(ctx, tenantID, model, batchHashes, got); err != nil {
			return nil, usage, err
		}
		for j, i := range chunk {
			vectors[i] = got[j]
		}
	}
	for i, h := range hashes {
		if vectors[i] == nil {
			vectors[i] = vectors[first[string(h)]]
		}
	}
	return vectors, usage, nil
}
