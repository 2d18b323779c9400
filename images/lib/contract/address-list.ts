// A list of address ranges in a config file, checked by the CIDR code that will match them
// (cidr.ts), so that a typo fails at load, not at match.
import { z } from 'zod';
import { isCidr } from './cidr.ts';

export const addressList = z.array(
  z.string().refine(isCidr, { message: 'must be an IP address or a CIDR such as "10.0.0.0/8"' }),
);
