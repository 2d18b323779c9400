// How the MMP's SMTP proxy proves itself to the outbound MTA before it may use XCLIENT (Postfix's
// XCLIENT_README): an address check alone is not enough, since clients in the same networks reach
// the submission port too. So the proxy, over TLS, first authenticates with SASL PLAIN as this fixed
// identity with the shared secret both sides read from the same Kubernetes Secret; only then is
// XCLIENT offered. The session it opens must then name the real user (XCLIENT LOGIN=…) or
// authenticate the client itself: the proxy identity can send no mail of its own.
export const XCLIENT_PROXY_IDENTITY = 'mtopo-smtp-proxy';
