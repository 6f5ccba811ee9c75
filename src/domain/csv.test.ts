import { describe, expect, it } from 'vitest';
import { csvCell, metricNamesOf, rowCsvColumns, rowCsvHeader, rowCsvLine } from './csv.js';

describe('CSV export of rows', () => {
  it('quotes what needs quoting and writes objects as JSON', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(csvCell(null)).toBe('');
    expect(csvCell([{ role: 'user' }])).toBe('"[{""role"":""user""}]"');
    expect(csvCell(0.5)).toBe('0.5');
  });

  it('has a column per metric and per input field, fixed by the first rows and the job', () => {
    const rows = [
      { messages: [{ role: 'user', content: 'hi' }], ground_truth: 'x', evaluation_result: { score: 1, is_score_valid: true, reason: 'ok, fine', metrics: { exact: { score: 1 } } }, evals: { score: 1 } },
      { messages: [], ground_truth: 'y', evaluation_result: { score: 0, is_score_valid: false, error: 'crash', reason: null, metrics: {} } },
    ];
    const columns = rowCsvColumns(rows, { metrics: metricNamesOf({ score: 1, 'metric.len': 3 }), extra: ['ms'] });
    expect(rowCsvHeader(columns)).toBe('index,ms,score,is_score_valid,error,reason,metric.exact,metric.len,messages,ground_truth\n');
    expect(rowCsvLine(columns, 0, rows[0]!, [12])).toBe('0,12,1,true,,"ok, fine",1,,"[{""role"":""user"",""content"":""hi""}]",x\n');
    expect(rowCsvLine(columns, 1, rows[1]!, [3])).toBe('1,3,0,false,crash,,,,[],y\n');
  });

  it('leaves the evaluation columns out for rows that were never scored', () => {
    const columns = rowCsvColumns([{ a: 1, b: 'two' }]);
    expect(rowCsvHeader(columns)).toBe('index,a,b\n');
    expect(rowCsvLine(columns, 4, { a: 1, b: 'two', c: 'later' })).toBe('4,1,two\n');
  });
});
