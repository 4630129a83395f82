/**
 * The Art. 30 fields of a resolved policy (issue 13, docs: the policy contract), read
 * optionally: a core without them still gives a record, with "not stated in the policy"
 * where a field is absent.
 */
import type { Policy, ResolvedPurposeRule } from '@purposekit/core';

export interface Art30Controller {
  readonly name: string;
  readonly contact: string;
  readonly address?: string;
  readonly dpo?: string;
  readonly representative?: string;
}
export interface Art30Recipient {
  readonly name: string;
  readonly role: string;
  readonly country: string | undefined;
  readonly consentRequired: boolean;
  readonly source: string | undefined;
}
export interface Art30Transfer {
  readonly to: string;
  readonly country: string;
  readonly mechanism: string;
  readonly source: string | undefined;
}
export interface Art30Retention {
  readonly duration: string;
  readonly from: string;
  readonly onExpiry: string;
  readonly holds: readonly string[];
  readonly source: string | undefined;
}
export interface Art30Right {
  readonly applies: boolean;
  readonly exceptions: readonly { readonly reason: string; readonly source: string }[];
}

/** A policy that may carry the Art. 30 fields. */
export type Art30Policy = Policy & {
  readonly controller?: Art30Controller | undefined;
  readonly security?: readonly string[];
  readonly recipients?: Readonly<Record<string, Art30Recipient>>;
};

/** A purpose rule that may carry the Art. 30 fields. */
export type Art30Purpose = ResolvedPurposeRule & {
  readonly sources?: readonly string[];
  readonly subjects?: readonly string[];
  readonly transfers?: readonly Art30Transfer[];
  readonly retentionRule?: Art30Retention | undefined;
  readonly rights?: Readonly<Record<string, Art30Right>>;
  readonly survivesErasure?: boolean;
};

export const art30 = (p: Policy): Art30Policy => p as Art30Policy;
export const art30Purpose = (r: ResolvedPurposeRule): Art30Purpose => r as Art30Purpose;

/** What a record prints where the policy says nothing. */
export const NOT_STATED = 'not stated in the policy';
