import type { MessageData } from '../../events/event-bus';
import { Message } from './message.entity';

export function toMessageData(message: Message): MessageData {
  return { ...message, createdAt: message.createdAt.toISOString() };
}

export function fromMessageData(data: MessageData): Message {
  return Object.assign(new Message(), data, { createdAt: new Date(data.createdAt) });
}
