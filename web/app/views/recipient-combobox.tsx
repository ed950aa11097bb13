// The "To" field: an editable combobox with list autocomplete (WAI-ARIA 1.2, as in the APG's
// pattern). Typing asks the server's recipients(search:); focus stays in the input, and the
// option under the arrow keys is pointed at by aria-activedescendant.
import './recipient-combobox.css';
import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { RecipientsDocument, type RecipientChoiceFragment } from '../../gql/graphql';
import { explain } from '../errors';

/** How long typing must pause before the server is asked. */
const SEARCH_DELAY_MS = 150;

const choiceName = (choice: RecipientChoiceFragment) => (choice.__typename === 'TeamRecipient' ? choice.team.name : choice.user.name);

function choiceDetail(choice: RecipientChoiceFragment): string {
  if (choice.__typename === 'UserRecipient') return choice.user.kind === 'PATIENT' ? 'Patient' : 'Clinician';
  return `team · reaches ${choice.reachCount} ${choice.reachCount === 1 ? 'person' : 'people'}`;
}

const countText = (count: number) => (count ? `${count} ${count === 1 ? 'recipient' : 'recipients'} found` : 'No one matches');

interface Props {
  /** The input's id; the label, the listbox and the options take theirs from it. */
  id: string;
  label: string;
  picked: RecipientChoiceFragment[];
  pick(choice: RecipientChoiceFragment): void;
  remove(choice: RecipientChoiceFragment): void;
  /** What is wrong with the field, said below it and read with it. */
  problem: string;
  inputRef: RefObject<HTMLInputElement>;
}

export function RecipientCombobox({ id, label, picked, pick, remove, problem, inputRef }: Props) {
  const [text, setText] = useState('');
  // The search the popup is open for; null while it is closed.
  const [term, setTerm] = useState<string | null>(null);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [said, setSaid] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => () => clearTimeout(timer.current), []);

  // A new term replaces the query, and urql drops the request still running for the old one.
  const [result] = useQuery({ query: RecipientsDocument, variables: { search: term ?? '' }, pause: term === null });
  // Until its answer comes, the result still holds the previous term's.
  const answered = term !== null && result.operation?.variables.search === term;
  const offered = answered ? result.data?.recipients.filter((choice) => !picked.some((p) => p.id === choice.id)) : undefined;
  const expanded = !!offered?.length;
  const active = offered?.findIndex((choice) => choice.id === activeId) ?? -1;
  const optionId = (index: number) => `${id}-option-${index}`;

  useEffect(() => {
    if (active >= 0) list.current?.children[active]?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const open = (search: string) => {
    clearTimeout(timer.current);
    setActiveId(null);
    setTerm(search);
  };
  const close = () => {
    clearTimeout(timer.current);
    setActiveId(null);
    setTerm(null);
  };

  const type = (value: string) => {
    setText(value);
    setSaid('');
    clearTimeout(timer.current);
    if (!value.trim()) return close();
    timer.current = setTimeout(() => open(value.trim()), SEARCH_DELAY_MS);
  };

  const choose = (choice: RecipientChoiceFragment) => {
    pick(choice);
    setText('');
    close();
    setSaid(`${choiceName(choice)} added.`);
  };

  const unpick = (choice: RecipientChoiceFragment) => {
    remove(choice);
    setSaid(`${choiceName(choice)} removed.`);
    // The button goes with its chip: the focus goes back to the field.
    inputRef.current?.focus();
  };

  const move = (step: 1 | -1) => {
    if (!offered?.length) return;
    const next = active < 0 ? (step === 1 ? 0 : offered.length - 1) : (active + step + offered.length) % offered.length;
    setActiveId(offered[next].id);
  };

  function onKeyDown(event: KeyboardEvent) {
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        event.preventDefault();
        if (term === null) open(text.trim());
        else move(event.key === 'ArrowDown' ? 1 : -1);
        return;
      case 'Enter':
        if (expanded && active >= 0) {
          event.preventDefault();
          choose(offered[active]);
        }
        return;
      case 'Escape':
        // The first Escape closes the list, the second clears what was typed.
        if (term !== null) close();
        else if (text) type('');
        else return;
        event.preventDefault();
        return;
    }
  }

  const status = answered && !result.error && offered ? countText(offered.length) : said;
  const problemId = `${id}-problem`;
  return (
    <div class="recipient-field">
      <label id={`${id}-label`} for={id}>
        {label}
      </label>
      {picked.length > 0 && (
        <ul class="chips" aria-label="Chosen recipients">
          {picked.map((choice) => (
            <li key={choice.id} class="chip">
              <span class="chip-name">{choiceName(choice)}</span>
              <button type="button" aria-label={`Remove ${choiceName(choice)}`} onClick={() => unpick(choice)}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="combobox">
        <input
          id={id}
          ref={inputRef}
          type="text"
          role="combobox"
          autocomplete="off"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={`${id}-listbox`}
          aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? problemId : undefined}
          value={text}
          onInput={(event) => type(event.currentTarget.value)}
          onKeyDown={onKeyDown}
          onBlur={close}
        />
        <ul id={`${id}-listbox`} ref={list} role="listbox" aria-labelledby={`${id}-label`} hidden={!expanded}>
          {offered?.map((choice, index) => (
            <li
              key={choice.id}
              id={optionId(index)}
              role="option"
              aria-selected={index === active}
              class={index === active ? 'option active' : 'option'}
              // Keeps the focus in the input, which would otherwise close the list before the click.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => choose(choice)}
            >
              <span class="option-name">{choiceName(choice)}</span> <span class="option-detail">{choiceDetail(choice)}</span>
            </li>
          ))}
        </ul>
      </div>
      <p class="hint combobox-status" role="status">
        {status}
      </p>
      <p class="error" role="alert">
        {answered ? explain(result.error) : ''}
      </p>
      <p id={problemId} class="error">
        {problem}
      </p>
    </div>
  );
}
