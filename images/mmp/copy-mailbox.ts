// Copies one user's mailbox from one store to another, after the user's mailHost changed
// (docs/mmp.md, "Moving a user"). Run inside an MMP pod, which already reaches every store over IMAP
// and logs in there on users' behalf (SASL PLAIN, authzid = the user, the proxy's shared secret), so
// the copy needs no new flow through the firewall:
//   node images/mmp/copy-mailbox.js USER --from MAILHOST --to MAILHOST [--config FILE]
// Every folder (created when missing, subscribed as on the source), every message with its flags
// and INTERNALDATE. Safe to run again: what the target already holds is skipped (copy-mailbox/plan.ts
// says how a message is recognized). One message is held in memory at a time.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ImapFlow, type ListResponse } from 'imapflow';
import { mmpConfig, type MmpConfig } from '../lib/contract/mmp.ts';
import { PATHS } from '../lib/contract/ports.ts';
import { DirectoryClient } from '../lib/directory/directory-client.ts';
import { describeError } from '../lib/errors.ts';
import { loadConfigFile } from '../lib/load-config.ts';
import { readSecretFile } from '../lib/secret-file.ts';
import { appendFlags, messagesToCopy, targetPath, type MessageSummary } from './copy-mailbox/plan.ts';
import { identityOf } from './routing/login-cache.ts';

const USAGE = 'usage: node images/mmp/copy-mailbox.js USER --from MAILHOST --to MAILHOST [--config FILE]\n';

function storeClient(config: MmpConfig, mailHost: string, user: string): ImapFlow {
  const address = config.stores[mailHost];
  if (!address) throw new Error(`no store ${mailHost}; known: ${Object.keys(config.stores).join(', ')}`);
  const tls = config.storeTls;
  return new ImapFlow({
    host: address.host,
    // With storeTls the store map's IMAP port is the stores' implicit-TLS one, as for the MMP's splice.
    port: address.imapPort,
    secure: tls !== undefined,
    // Without storeTls the MMP's own store connections are cleartext (the site's choice inside the
    // cluster); the copy goes the same way rather than trying a STARTTLS the MMP never does.
    doSTARTTLS: false,
    tls: tls ? { servername: address.host, ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}) } : {},
    auth: {
      user: config.proxyAuth.username,
      pass: readSecretFile(config.proxyAuth.passwordFile),
      authzid: user,
      loginMethod: 'AUTH=PLAIN',
    },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 30_000,
  });
}

async function summaries(client: ImapFlow, path: string): Promise<MessageSummary[]> {
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    const found: MessageSummary[] = [];
    if (client.mailbox === false || client.mailbox.exists === 0) return found;
    for await (const message of client.fetch('1:*', {
      uid: true,
      flags: true,
      internalDate: true,
      size: true,
      envelope: true,
    })) {
      found.push({
        uid: message.uid,
        messageId: message.envelope?.messageId,
        size: message.size ?? 0,
        internalDate: new Date(message.internalDate ?? 0),
        flags: [...(message.flags ?? [])],
      });
    }
    return found;
  } finally {
    lock.release();
  }
}

const selectable = (folder: ListResponse) =>
  !folder.flags.has('\\Noselect') && !folder.flags.has('\\NonExistent');

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      config: { type: 'string', default: PATHS.config },
    },
  });
  const user = positionals[0];
  if (!user || !values.from || !values.to || values.from === values.to) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const config = loadConfigFile(values.config, mmpConfig);
  // The store knows the account by the name the MMP logs in with (the entry's mail, else its uid),
  // so USER (a uid or an address, as at login) is looked up as a login is.
  const directory = new DirectoryClient({ config: config.directory });
  const entry = await directory.findLogin(user).finally(() => directory.close());
  if (!entry) throw new Error(`the directory knows no user ${user}`);
  const account = identityOf(entry);
  if (entry.mailHost !== values.to)
    process.stderr.write(
      `warning: the directory routes ${account} to ${entry.mailHost ?? 'no store'}, not ${values.to}; change the mailHost first (docs/mmp.md)\n`,
    );
  const source = storeClient(config, values.from, account);
  const target = storeClient(config, values.to, account);
  await source.connect();
  await target.connect();
  const totals = { folders: 0, created: 0, onSource: 0, present: 0, copied: 0 };
  try {
    const sourceFolders = await source.list();
    const targetFolders = await target.list();
    const targetDelimiter = targetFolders[0]?.delimiter ?? sourceFolders[0]?.delimiter ?? '/';
    const existing = new Map(
      targetFolders.map((f) => [f.path.toUpperCase() === 'INBOX' ? 'INBOX' : f.path, f]),
    );
    for (const folder of sourceFolders) {
      const path = targetPath(folder.path, folder.delimiter, targetDelimiter);
      const there = existing.get(path.toUpperCase() === 'INBOX' ? 'INBOX' : path);
      if (!there) {
        await target.mailboxCreate(path);
        totals.created++;
      }
      if (folder.subscribed && !there?.subscribed) await target.mailboxSubscribe(path);
      if (!selectable(folder)) continue;
      totals.folders++;
      const from = await summaries(source, folder.path);
      const already = there ? await summaries(target, path) : [];
      const missing = messagesToCopy(from, already);
      totals.onSource += from.length;
      totals.present += from.length - missing.length;
      let copied = 0;
      if (missing.length > 0) {
        const lock = await source.getMailboxLock(folder.path, { readOnly: true });
        try {
          for (const message of missing) {
            const fetched = await source.fetchOne(String(message.uid), { source: true }, { uid: true });
            if (!fetched || !fetched.source)
              throw new Error(`${folder.path} UID ${message.uid}: vanished from the source`);
            await target.append(path, fetched.source, appendFlags(message.flags), message.internalDate);
            copied++;
            if (copied % 100 === 0)
              process.stdout.write(`${folder.path}: ${copied}/${missing.length} copied\n`);
          }
        } finally {
          lock.release();
        }
      }
      totals.copied += copied;
      process.stdout.write(
        `${folder.path}${there ? '' : ' (created)'}: ${from.length} on ${values.from}, ${from.length - missing.length} already on ${values.to}, ${copied} copied\n`,
      );
    }
  } finally {
    await Promise.allSettled([source.logout(), target.logout()]);
  }
  process.stdout.write(
    `copied ${totals.copied} of ${totals.onSource} messages of ${account} in ${totals.folders} folders (${totals.present} already there, ${totals.created} folders created)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`copy-mailbox: ${describeError(error)}\n`);
  process.exit(1);
});
