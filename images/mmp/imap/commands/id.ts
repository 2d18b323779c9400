// ID (RFC 2971). The MMP answers for itself and names no store: the layout stays hidden. The
// client's address goes to the store in the MMP's own ID at login, where the store trusts it.
import { imapCommand } from '../command.ts';

export const id = imapCommand<[Map<string, string | null> | null]>({
  name: 'ID',
  states: ['not-authenticated'],
  grammar: ['id-params'],
  handle(context, tag) {
    context.send('* ID ("name" "mtopo-mmp")');
    context.send(`${tag} OK ID completed`);
  },
});
