import type { Person, World } from './world';

/** The drop-down as a client would ask for it, with every field that has a resolver behind it. */
export const RECIPIENTS = `
  query($search: String, $threadId: ID, $first: Int) {
    recipients(search: $search, threadId: $threadId, first: $first) {
      __typename
      ... on TeamRecipient {
        team { id name autoCc members { id } contactableMembers { id } }
        members { id name kind contactable teams { name } }
      }
      ... on UserRecipient { user { id name kind contactable teams { name } } }
    }
  }`;

export interface RecipientArgs {
  search?: string;
  threadId?: string;
  /** 100 (the largest page) unless told, so nothing a test looks for is cut off. */
  first?: number;
}

interface NamedData {
  id: string;
  name: string;
}

export type RecipientOptionData =
  | { __typename: 'TeamRecipient'; team: NamedData & { autoCc: boolean }; members: NamedData[] }
  | { __typename: 'UserRecipient'; user: NamedData & { kind: 'PATIENT' | 'PROFESSIONAL'; contactable: boolean } };

/** What the drop-down offers, by name and in the server's order: teams with the members picking them would add, then people. */
export interface Offer {
  teams: { name: string; members: string[] }[];
  users: string[];
}

/** The raw `recipients` options offered to `caller`. */
export async function recipientOptions(world: World, caller: Person, args: RecipientArgs = {}): Promise<RecipientOptionData[]> {
  const { recipients } = await world.as(caller, RECIPIENTS, { first: 100, ...args });
  return recipients as RecipientOptionData[];
}

/** The `recipients` options offered to `caller`, by name. */
export async function offered(world: World, caller: Person, args: RecipientArgs = {}): Promise<Offer> {
  const offer: Offer = { teams: [], users: [] };
  for (const option of await recipientOptions(world, caller, args)) {
    if (option.__typename === 'TeamRecipient') offer.teams.push({ name: option.team.name, members: option.members.map((u) => u.name) });
    else offer.users.push(option.user.name);
  }
  return offer;
}
