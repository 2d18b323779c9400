// The Received: trace header every SMTP server prepends (RFC 5321 section 4.4), in the common
// Postfix-like layout. Its values come from the client (HELO) or from the network, so each is
// reduced to characters that cannot end the header or break its comments.

export interface ReceivedInput {
  /** HELO/EHLO argument, as the client gave it. */
  helo: string;
  /** The client's address (after PROXY/XCLIENT). */
  clientAddress: string;
  /** Reverse DNS name, when looked up. */
  clientHostname?: string;
  /** Our host name. */
  by: string;
  /** RFC 3848 protocol keyword: ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTPS… */
  protocol: string;
  queueId: string;
  /** TLS version and cipher, when the session used TLS. */
  tls?: { version: string; cipher: string };
  /** Named only for a single recipient: listing several would show each to all (RFC 5321 section 7.2). */
  recipients: string[];
  date: Date;
}

function clean(value: string): string {
  return (
    value
      .replace(/[^!-~]/g, '?')
      .replace(/[()\\]/g, '?')
      .slice(0, 255) || 'unknown'
  );
}

export function rfc5322Date(date: Date): string {
  // toUTCString gives "Tue, 01 Jul 2025 10:00:00 GMT"; "GMT" is an obsolete zone (RFC 5322 4.3).
  return date.toUTCString().replace(/GMT$/, '+0000');
}

export function receivedHeader(input: ReceivedInput): string {
  const address = input.clientAddress.includes(':') ? `IPv6:${input.clientAddress}` : input.clientAddress;
  const lines = [
    `Received: from ${clean(input.helo)} (${input.clientHostname ? `${clean(input.clientHostname)} ` : ''}[${clean(address)}])`,
    `\tby ${clean(input.by)} (mtopo) with ${clean(input.protocol)} id ${clean(input.queueId)}`,
  ];
  if (input.tls) lines.push(`\t(using ${clean(input.tls.version)} with cipher ${clean(input.tls.cipher)})`);
  const date = rfc5322Date(input.date);
  if (input.recipients.length === 1) {
    lines.push(`\tfor <${clean(input.recipients[0]!)}>; ${date}`);
  } else {
    lines[lines.length - 1] += ';';
    lines.push(`\t${date}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
