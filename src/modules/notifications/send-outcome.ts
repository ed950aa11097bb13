/** How one channel's send ended: `retry` after a failure that may pass (the server down, a 4xx SMTP reply), `failed` for good. */
export type SendOutcome = 'sent' | 'retry' | 'failed';
