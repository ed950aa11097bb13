import { AuditAction } from '../../src/modules/audit/audit-action';
import { AuditEvent, AuditOutcome, AuditRole } from '../../src/modules/audit/audit-event.entity';
import { CARETHREAD, FHIR_ACTIONS, toFhirAuditEvent, type FhirUser } from '../../src/modules/audit/fhir-audit-event';
import { UserKind } from '../../src/modules/users/user-kind';
import { extension, r4Problems } from '../support/fhir-r4';

// One audit event as a FHIR R4 AuditEvent (what npm run audit:export writes; test/audit-export.test.ts runs the CLI).

describe('toFhirAuditEvent (pure)', () => {
  const base = (over: Partial<AuditEvent> = {}): AuditEvent =>
    Object.freeze({
      id: 42,
      at: new Date('2025-03-04T05:06:07.089Z'),
      actorId: 'doc-1',
      actorRole: AuditRole.PROFESSIONAL,
      actorTeamId: null,
      action: AuditAction.ThreadRead,
      outcome: AuditOutcome.SUCCESS,
      reason: null,
      threadId: 'thread-1',
      messageId: null,
      subjectUserId: null,
      patientId: null,
      teamId: null,
      recipients: null,
      requestId: 'req-1',
      clientIp: '203.0.113.7',
      userAgent: 'curl/8',
      instanceId: 'host-1234',
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
      ...over,
    }) as AuditEvent;
  const users = new Map<string, FhirUser>([
    ['doc-1', { name: 'Dr One', kind: UserKind.PROFESSIONAL }],
    ['doc-2', { name: 'Dr Two', kind: UserKind.PROFESSIONAL }],
    ['pat-1', { name: 'Pat One', kind: UserKind.PATIENT }],
  ]);

  test('every action has one FHIR type and action code', () => {
    expect(Object.keys(FHIR_ACTIONS).sort()).toEqual(Object.values(AuditAction).sort());
    for (const { type, action } of Object.values(FHIR_ACTIONS)) {
      expect(['C', 'R', 'U', 'D', 'E']).toContain(action);
      expect(type).toEqual({ system: expect.stringMatching(/^http/), code: expect.any(String), display: expect.any(String) });
    }
    expect(FHIR_ACTIONS.THREAD_CREATED.action).toBe('C');
    expect(FHIR_ACTIONS.MESSAGE_DELIVERED.action).toBe('R');
    expect(FHIR_ACTIONS.PARTICIPANT_LEFT.action).toBe('U');
    expect(FHIR_ACTIONS.THREAD_READ.type.code).toBe('110110');
  });

  test('a successful read: the actor as requestor, the patient, the thread, the hashes', () => {
    const r = toFhirAuditEvent(base(), ['pat-1'], users);
    expect(r4Problems(r)).toEqual([]);
    expect(r).toMatchObject({
      resourceType: 'AuditEvent',
      id: '42',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
      subtype: [{ system: 'urn:carethread:audit-action', code: 'THREAD_READ' }],
      action: 'R',
      recorded: '2025-03-04T05:06:07.089Z',
      outcome: '0',
      source: { site: 'CareThread', observer: { display: 'host-1234' } },
    });
    expect(r.outcomeDesc).toBeUndefined();
    expect(r.agent).toEqual([
      {
        who: { reference: 'Practitioner/doc-1', display: 'Dr One' },
        requestor: true,
        role: [{ coding: [{ system: CARETHREAD.role, code: 'PROFESSIONAL' }] }],
        network: { address: '203.0.113.7', type: '2' },
        extension: [{ url: CARETHREAD.userAgent, valueString: 'curl/8' }],
      },
    ]);
    expect(r.entity).toEqual([
      {
        what: { reference: 'Patient/pat-1', display: 'Pat One' },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      },
      expect.objectContaining({ what: { identifier: { system: 'urn:carethread:thread', value: 'thread-1' } } }),
    ]);
    expect(extension(r, CARETHREAD.hash)).toBe('b'.repeat(64));
    expect(extension(r, CARETHREAD.prevHash)).toBe('a'.repeat(64));
    expect(extension(r, CARETHREAD.requestId)).toBe('req-1');
    expect(toFhirAuditEvent(base(), ['pat-1'], users)).toEqual(r);
  });

  test('an event not sealed yet goes out complete, without the chain extensions', () => {
    const r = toFhirAuditEvent(base({ chainSeq: null, prevHash: null, hash: null }), ['pat-1'], users);
    expect(r.extension?.map((e) => e.url)).toEqual([CARETHREAD.requestId]);
    expect(r).toEqual({ ...toFhirAuditEvent(base(), ['pat-1'], users), extension: r.extension });
  });

  test('DENIED is outcome 4 with the reason', () => {
    const r = toFhirAuditEvent(base({ outcome: AuditOutcome.DENIED, reason: 'NOT_FOUND: Thread not found' }), [], users);
    expect(r).toMatchObject({ outcome: '4', outcomeDesc: 'NOT_FOUND: Thread not found' });
    expect(r4Problems(r)).toEqual([]);
  });

  test('MESSAGE_DELIVERED: one agent per recipient, not requestors, with their role then', () => {
    const recipients = JSON.stringify([
      { id: 'doc-2', role: 'PROFESSIONAL', teamId: 'team-9' },
      { id: 'pat-1', role: 'PATIENT', teamId: null },
      { id: 'gone-1', role: null, teamId: null },
    ]);
    const r = toFhirAuditEvent(base({ action: AuditAction.MessageDelivered, messageId: 'msg-1', recipients, clientIp: null, userAgent: null }), ['pat-1'], users);
    expect(r4Problems(r)).toEqual([]);
    expect(r.agent.map((a) => [a.who?.reference, a.requestor, a.role?.[0].coding?.[0].code ?? null])).toEqual([
      ['Practitioner/doc-1', true, 'PROFESSIONAL'],
      ['Practitioner/doc-2', false, 'PROFESSIONAL'],
      ['Patient/pat-1', false, 'PATIENT'],
      ['Practitioner/gone-1', false, null],
    ]);
    expect(r.agent[0].network).toBeUndefined();
    expect(r.agent[1].extension).toEqual([{ url: CARETHREAD.viaTeam, valueIdentifier: { system: CARETHREAD.team, value: 'team-9' } }]);
    expect(r.agent[3].who).toEqual({ reference: 'Practitioner/gone-1' });
    expect(r.entity?.map((e) => e.what?.identifier?.system ?? e.what?.reference)).toEqual(['Patient/pat-1', CARETHREAD.thread, CARETHREAD.message]);
  });

  test('an admin action: type rest, the subject user and the team as entities, no patient', () => {
    const r = toFhirAuditEvent(
      base({ action: AuditAction.TeamMemberAdded, actorRole: AuditRole.ADMIN, threadId: null, subjectUserId: 'doc-2', teamId: 'team-9', requestId: null }),
      [],
      users,
    );
    expect(r4Problems(r)).toEqual([]);
    expect(r).toMatchObject({ type: { code: 'rest' }, action: 'U', agent: [{ role: [{ coding: [{ code: 'ADMIN' }] }] }] });
    expect(r.entity?.map((e) => [e.what, e.role?.code])).toEqual([
      [{ identifier: { system: CARETHREAD.team, value: 'team-9' } }, '12'],
      [{ reference: 'Practitioner/doc-2', display: 'Dr Two' }, '6'],
    ]);
    expect(extension(r, CARETHREAD.requestId)).toBeUndefined();
  });
});

