import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorText, isTransientError, sqlState } from './errors.ts';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransientError', () => {
  test('socket failures of a server that is down or unreachable are transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']) {
      assert.equal(isTransientError(withCode(`connect ${code} 127.0.0.1:5432`, code)), true, code);
    }
  });

  test('a refused connection to every address of a name (AggregateError) is transient', () => {
    const error = new AggregateError([
      withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    ]);
    assert.equal(isTransientError(error), true);
  });

  test('SQLSTATE classes 08 and 53, shutdowns, serialization failures and deadlocks are transient', () => {
    for (const code of ['08006', '08001', '53300', '53200', '57P01', '57P02', '57P03', '40001', '40P01']) {
      assert.equal(isTransientError(withCode('server said no', code)), true, code);
    }
  });

  test("the pg driver's code-less connection errors are transient, also as a cause", () => {
    assert.equal(isTransientError(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isTransientError(new Error('timeout exceeded when trying to connect')), true);
    const wrapped = new Error('Connection terminated due to connection timeout', {
      cause: new Error('Connection terminated unexpectedly'),
    });
    assert.equal(isTransientError(wrapped), true);
    assert.equal(isTransientError(new Error('wrapped', { cause: withCode('reset', 'ECONNRESET') })), true);
  });

  test('bad data, missing tables, syntax errors and non-errors are not transient', () => {
    for (const code of ['23502', '23505', '42P01', '42601', '22P02', '57014', 'ENOTFOUND']) {
      assert.equal(isTransientError(withCode('no', code)), false, code);
    }
    assert.equal(isTransientError(new Error('something else')), false);
    assert.equal(isTransientError('ECONNREFUSED'), false);
    assert.equal(isTransientError(undefined), false);
  });
});

describe('sqlState', () => {
  test('is the code of a server error and nothing else', () => {
    assert.equal(sqlState(withCode('x', '42P01')), '42P01');
    assert.equal(sqlState(withCode('x', 'ECONNREFUSED')), undefined);
    assert.equal(sqlState(new Error('x')), undefined);
    assert.equal(sqlState(undefined), undefined);
  });
});

describe('errorText', () => {
  test('is one line', () => {
    assert.equal(
      errorText(new Error('relation "clips"\n  does not exist')),
      'relation "clips" does not exist',
    );
    assert.equal(errorText('plain'), 'plain');
  });

  test('lists the parts of an AggregateError without a message', () => {
    const error = new AggregateError([
      withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    ]);
    assert.equal(errorText(error), 'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  test('falls back to the code of an error without a message', () => {
    assert.equal(errorText(withCode('', 'ECONNRESET')), 'ECONNRESET');
  });
});
