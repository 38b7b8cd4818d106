package web

import "golang.org/x/crypto/bcrypt"

func init() { BcryptCost = bcrypt.MinCost }
