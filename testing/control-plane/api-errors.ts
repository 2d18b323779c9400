// Asserting that the API server refused a request, and why: the HTTP status (403 forbidden, 404
// not found, 422 invalid, 409 conflict) and the Status message the server sent with it.
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { KubeApiError } from '../../operator/src/reconcile/kube/rest-client.ts';

/** The HTTP status of an API error, or undefined for anything else (network errors, bugs). */
export function apiErrorStatus(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.status;
  return error instanceof ApiException ? error.code : undefined;
}

/** The server's explanation: the Status body's message, or the raw body. */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof KubeApiError) return error.message;
  if (!(error instanceof ApiException)) return error instanceof Error ? error.message : String(error);
  const body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // Not JSON: fall through to the raw body.
    }
    return body;
  }
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  return error.message;
}

/** Awaits `request` and asserts it failed with `status`; returns the server's message to check further. */
export async function expectApiError(request: Promise<unknown>, status: number): Promise<string> {
  try {
    await request;
  } catch (error) {
    assert.equal(apiErrorStatus(error), status, `expected HTTP ${status}, got: ${apiErrorMessage(error)}`);
    return apiErrorMessage(error);
  }
  assert.fail(`expected the request to fail with HTTP ${status}, but it succeeded`);
}
