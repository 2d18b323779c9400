// The base subject of RFC 5256 section 2.1, for SORT SUBJECT and THREAD: the subject with encoded
// words decoded and "Re:", "Fwd:", "[list]" prefixes and "(fwd)" trailers taken away, so a reply
// sorts and threads with what it answers.
import { decodeHeaderText } from './evaluate-search.ts';

const BLOB = String.raw`\[[^[\]]*\]`;
// subj-leader (step 3): (*subj-blob subj-refwd) / WSP, with subj-refwd = ("re" / "fw" ["d"]) *WSP [subj-blob] ":"
const LEADER = new RegExp(String.raw`^(?:(?:${BLOB}\s*)*(?:re|fwd?)\s*(?:${BLOB}\s*)?:|\s+)`, 'i');
const LEADING_BLOB = new RegExp(String.raw`^${BLOB}\s*`);
const TRAILER = /(?:\s*\(fwd\)|\s+)$/i;
const FWD_WRAPPER = /^\[fwd:(.*)\]$/i;

export interface BaseSubject {
  base: string;
  /** Whether anything of the reply/forward kind was removed (THREAD's "is a reply" test). */
  isReplyOrForward: boolean;
}

export function baseSubject(raw: string | undefined): BaseSubject {
  // Step 1: decode, fold whitespace runs into one space.
  let s = decodeHeaderText(raw ?? '').replace(/[\t\r\n ]+/g, ' ');
  let isReplyOrForward = false;
  for (;;) {
    // Step 2: subj-trailer.
    for (let t = s.replace(TRAILER, ''); t !== s; t = s.replace(TRAILER, '')) {
      if (/\(fwd\)$/i.test(s)) isReplyOrForward = true;
      s = t;
    }
    // Steps 3 and 4 until nothing changes.
    for (;;) {
      const before = s;
      for (let m = LEADER.exec(s); m && m[0].length > 0; m = LEADER.exec(s)) {
        if (/[:]/.test(m[0])) isReplyOrForward = true;
        s = s.slice(m[0].length);
      }
      const blob = LEADING_BLOB.exec(s);
      if (blob && s.length > blob[0].length) s = s.slice(blob[0].length);
      if (s === before) break;
    }
    // Step 5: [fwd: subject] → subject, then again from step 2.
    const wrapped = FWD_WRAPPER.exec(s);
    if (!wrapped) break;
    s = wrapped[1]!;
    isReplyOrForward = true;
  }
  return { base: s.toUpperCase(), isReplyOrForward };
}
