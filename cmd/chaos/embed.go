package main

import (
	"context"

	"github.com/presswork/presswork/internal/ai/offline"
)

// embed gives the fake server the offline provider's vectors (hashed
// character n-grams), in which similar keywords are near, so that the
// keywords cluster as they would with a real embedding model.
func embed(input []string, dims int) [][]float32 {
	vectors, _, err := offline.NewEmbedder(dims).Embed(context.Background(), input)
	if err != nil {
		return nil
	}
	return vectors
}
