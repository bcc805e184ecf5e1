package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// getInstance reads instance id from the catalog; an unknown id is the
// typed InstanceNotFound the workflows give for it, so that every command
// says [InstanceNotFound] for a name the catalog does not know.
func getInstance(ctx context.Context, cat *catalog.Catalog, id string) (catalog.Instance, error) {
	inst, err := cat.GetInstance(ctx, id)
	return inst, instanceNotFound(id, err)
}

// instanceNotFound types err when it says the catalog has no instance id.
func instanceNotFound(id string, err error) error {
	if !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	return contract.NewError(contract.ErrTypeInstanceNotFound, fmt.Sprintf("find instance %q: no such instance "+
		"in the catalog: check the name; `starter keys list` shows the instances on each root key", id), err)
}
