import type { MessageData } from '../../events/event-bus';
import { Message } from './message.entity';

export function toMessageData(message: Message): MessageData {
  return { ...message, createdAt: message.createdAt.toISOString(), readByCareTeamAt: message.readByCareTeamAt?.toISOString() ?? null };
}

export function fromMessageData(data: MessageData): Message {
  return Object.assign(new Message(), data, {
    createdAt: new Date(data.createdAt),
    readByCareTeamAt: data.readByCareTeamAt ? new Date(data.readByCareTeamAt) : null,
  });
}
