import { DirectoryFileError, readDirectory } from '../../src/modules/directory/directory-file';

/** The problems readDirectory finds, one line each. */
function problems(text: string, format: 'json' | 'csv'): string[] {
  try {
    readDirectory(text, format);
  } catch (error) {
    if (error instanceof DirectoryFileError) return error.problems;
    throw error;
  }
  throw new Error('the file was accepted');
}

test('a JSON directory: emails lower-cased, names in NFC, defaults filled (contactable, not admin, no auto-CC, no password)', () => {
  const directory = readDirectory(
    JSON.stringify({
      professionals: [{ email: ' Ann@Clinic.Example ', name: 'Jose\u0301' }],
      patients: [{ email: 'pat@clinic.example', name: 'Pat' }],
      teams: [{ name: 'Cardio', members: ['ANN@clinic.example'] }],
      shares: [{ patient: 'pat@clinic.example', team: 'Cardio' }, { patient: 'pat@clinic.example', professional: 'ann@clinic.example' }],
    }),
    'json',
  );
  expect(directory).toEqual({
    professionals: [{ where: 'professionals[0]', email: 'ann@clinic.example', name: 'Jos\u00e9', passwordHash: null, contactable: true, isAdmin: false }],
    patients: [{ where: 'patients[0]', email: 'pat@clinic.example', name: 'Pat', passwordHash: null }],
    teams: [{ where: 'teams[0]', name: 'Cardio', autoCc: false, members: [{ where: 'teams[0].members[0]', email: 'ann@clinic.example' }] }],
    shares: [
      { where: 'shares[0]', patient: 'pat@clinic.example', team: 'Cardio' },
      { where: 'shares[1]', patient: 'pat@clinic.example', professional: 'ann@clinic.example' },
    ],
  });
});

test('JSON of the wrong shape is refused with the path of each problem', () => {
  expect(problems('{', 'json')[0]).toMatch(/^not JSON: /);
  const found = problems(JSON.stringify({ professionals: [{ email: 'a@b.example' }], patients: [{ email: 'p@b.example', name: 'P', isAdmin: true }], doctors: [] }), 'json');
  expect(found).toEqual([
    expect.stringMatching(/^professionals\[0\]\.name: /),
    expect.stringMatching(/^patients\[0\]: Unrecognized key: "isAdmin"/),
    expect.stringMatching(/^the file: Unrecognized key: "doctors"/),
  ]);
});

test('bad fields are refused with where they are: emails, names, booleans, password hashes, the same email or team twice', () => {
  const csv = [
    'professional,a@clinic.example,A,true,scrypt$10$c2FsdA==$a2V5',
    'professional,b@clinic.example,B,true,$2b$10$bcrypt',
    'patient,a@clinic.example,Again',
    'team,Cardio',
    'team,Cardio,true',
    'team,"Dr \u202eenoD"',
    'member,Cardio',
  ].join('\n');
  expect(problems(csv, 'csv')).toEqual([
    'line 2: passwordHash is not a CareThread password hash (scrypt$cost$salt$key)',
    'line 6: name must not hold bidirectional override or isolate characters (U+202A to U+202E, U+2066 to U+2069)',
    'line 7: a member record is member,team name,professional email',
    'line 3: email a@clinic.example is also at line 1',
    'line 5: team "Cardio" is also at line 4',
  ]);
  expect(problems('professional,"unclosed', 'csv')[0]).toMatch(/^not CSV: /);
});
