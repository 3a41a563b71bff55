// Token endpoint answers as deployed servers send them, made into what RFC 6749 §5.2 describes before oauth4webapi
// reads them. Only the status of an error is changed; the error itself, and every success, is checked as before.

/**
 * An OAuth error answered with HTTP 200 (GitHub's token endpoint does so for every error, among them a wrong client
 * secret: docs.github.com, "Troubleshooting OAuth app access token request errors", and
 * github.com/orgs/community/discussions/101455) becomes the 400 RFC 6749 §5.2 gives it, so that it is read as the
 * error it names instead of as a token response without an `access_token`. A 200 that carries an access token is
 * left alone, whatever else it says.
 */
export async function normalizeTokenResponse(response: Response): Promise<Response> {
  if (response.status !== 200) return response;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return response;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return response;
  const fields = body as Record<string, unknown>;
  if (typeof fields.error !== 'string' || fields.access_token !== undefined) return response;
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify(body), { status: 400, statusText: 'Bad Request', headers });
}
