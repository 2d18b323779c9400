// The three kinds and what their CustomResourceDefinitions say beyond the schema: names, short
// names, the category, and the columns `kubectl get` prints.
import type { z } from 'zod';
import { GROUP, VERSION } from './common.ts';
import { messagingTopologySpec, messagingTopologyStatus } from './messaging-topology.ts';
import { mmpPoolSpec, mmpPoolStatus } from './mmp-pool.ts';
import { mtaRelaySpec, mtaRelayStatus } from './mta-relay.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDefinition {
  kind: 'MessagingTopology' | 'MTARelay' | 'MMPPool';
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

const readyColumns: PrinterColumn[] = [
  {
    name: 'Status',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description: 'Reason of the Ready condition.',
  },
  {
    name: 'Message',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].message',
    description: 'Message of the Ready condition.',
    priority: 1,
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
];

export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'MessagingTopology',
    plural: 'messagingtopologies',
    singular: 'messagingtopology',
    shortNames: ['mtopo'],
    description:
      'A messaging site: hosted domains, the directory, message stores and the network zones; MTARelays and MMPPools attach to it.',
    spec: messagingTopologySpec,
    status: messagingTopologyStatus,
    printerColumns: [
      {
        name: 'Domains',
        type: 'string',
        jsonPath: '.status.domains',
        description: 'Hosted mail domains.',
      },
      { name: 'Stores', type: 'integer', jsonPath: '.spec.stores.replicas', description: 'Message stores.' },
      {
        name: 'Tiers',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Ready tiers over all tiers.',
      },
      {
        name: 'Ready',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Ready")].status',
        description: 'Whether every tier is ready.',
      },
      ...readyColumns,
    ],
  },
  {
    kind: 'MTARelay',
    plural: 'mtarelays',
    singular: 'mtarelay',
    shortNames: ['mta'],
    description: 'One MTA tier of a messaging topology: internet-facing, inbound, outbound or gateway.',
    spec: mtaRelaySpec,
    status: mtaRelayStatus,
    printerColumns: [
      {
        name: 'Topology',
        type: 'string',
        jsonPath: '.spec.topologyRef.name',
        description: 'Owning topology.',
      },
      {
        name: 'Role',
        type: 'string',
        jsonPath: '.spec.role',
        description: 'internet, inbound, outbound or gateway.',
      },
      {
        name: 'Replicas',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Ready over desired replicas.',
      },
      {
        name: 'Endpoint',
        type: 'string',
        jsonPath: '.status.endpoint',
        description: 'Where the tier is reached.',
      },
      ...readyColumns,
    ],
  },
  {
    kind: 'MMPPool',
    plural: 'mmppools',
    singular: 'mmppool',
    shortNames: ['mmp'],
    description:
      'A pool of Messaging Multiplexors: IMAP/POP (and optionally SMTP submission) proxies behind a load balancer.',
    spec: mmpPoolSpec,
    status: mmpPoolStatus,
    printerColumns: [
      {
        name: 'Topology',
        type: 'string',
        jsonPath: '.spec.topologyRef.name',
        description: 'Owning topology.',
      },
      { name: 'Protocols', type: 'string', jsonPath: '.status.protocols', description: 'Protocols served.' },
      {
        name: 'Replicas',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Ready over desired replicas.',
      },
      {
        name: 'Endpoint',
        type: 'string',
        jsonPath: '.status.endpoint',
        description: 'Where clients connect.',
      },
      ...readyColumns,
    ],
  },
];

export const CATEGORY = 'messaging';
export { GROUP, VERSION };
