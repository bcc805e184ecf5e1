package activities

import (
	"context"
	"fmt"
	"net/http"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"

	"github.com/byokflow/byokflow/contract"
)

// maxPolicyPages bounds the policy listing: 100 pages of 100 policies.
const maxPolicyPages = 100

// CheckServiceAuthorization looks, with the operator identity, for the IAM
// authorization policy that lets the DBaaS service read keys of the Key
// Protect instance (see grantsKeyAccess). Missing, it fails
// ServiceNotAuthorized naming the policy to create, or creates it when
// in.Create is set; a retry finds the policy the first attempt created.
func (a *Activities) CheckServiceAuthorization(ctx context.Context, in contract.CheckServiceAuthorizationInput) (
	contract.CheckServiceAuthorizationResult, error) {
	var res contract.CheckServiceAuthorizationResult
	kpInstance, err := a.kpInstance(in.KPInstanceID, "check service authorization")
	if err != nil {
		return res, err
	}
	t := authzTarget{AccountID: a.cfg.AccountID, ServiceName: a.cfg.ServiceName, KPInstanceID: kpInstance}
	id, err := a.findPolicy(ctx, t)
	if err != nil || id != "" {
		return contract.CheckServiceAuthorizationResult{PolicyID: id}, err
	}
	if !in.Create {
		msg := fmt.Sprintf("check service authorization for Key Protect instance %s: %s",
			kpInstance, policyAdvice(t.ServiceName, t.AccountID, kpInstance))
		return res, contract.NewError(contract.ErrTypeServiceNotAuthorized, msg, nil)
	}
	return a.createPolicy(ctx, t)
}

// findPolicy returns the id of the first policy granting t, or "".
func (a *Activities) findPolicy(ctx context.Context, t authzTarget) (string, error) {
	opts := &iampolicymanagementv1.ListPoliciesOptions{AccountID: core.StringPtr(t.AccountID),
		Type: core.StringPtr("authorization"), Limit: core.Int64Ptr(100)}
	for range maxPolicyPages {
		list, resp, err := a.policies.ListPoliciesWithContext(ctx, opts)
		if err != nil {
			return "", classifyIAM(err, resp, iamOp{verb: "list IAM authorization policies of account " + t.AccountID})
		}
		for _, p := range list.Policies {
			if grantsKeyAccess(p, t) {
				return deref(p.ID), nil
			}
		}
		if list.Next == nil || deref(list.Next.Start) == "" {
			return "", nil
		}
		opts.Start = list.Next.Start
	}
	return "", fmt.Errorf("list IAM authorization policies of account %s: more than %d pages", t.AccountID, maxPolicyPages)
}

// createPolicy creates the policy t describes. A conflict means an
// identical policy exists (made by an earlier attempt or by hand).
func (a *Activities) createPolicy(ctx context.Context, t authzTarget) (contract.CheckServiceAuthorizationResult, error) {
	var res contract.CheckServiceAuthorizationResult
	p, resp, err := a.policies.CreatePolicyWithContext(ctx, authorizationPolicy(t))
	if err == nil {
		return contract.CheckServiceAuthorizationResult{PolicyID: deref(p.ID), Created: true}, nil
	}
	op := iamOp{verb: fmt.Sprintf("create IAM authorization policy %s -> kms instance %s", t.ServiceName, t.KPInstanceID),
		create: true, target: t}
	if resp == nil || resp.StatusCode != http.StatusConflict {
		return res, classifyIAM(err, resp, op)
	}
	id, ferr := a.findPolicy(ctx, t)
	if ferr != nil || id == "" {
		return res, fmt.Errorf("%s: IAM reports a conflicting policy that grants less than Reader on the instance: %w", op.verb, err)
	}
	return contract.CheckServiceAuthorizationResult{PolicyID: id}, nil
}
