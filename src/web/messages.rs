//! Messages with values in them, and what each Bitrix24 failure means for the manager, in their language.
//! A manager never sees a bare error code: the code is kept only as a detail for support.

use crate::bitrix::incoming::{FormError, FormProblem};
use crate::bitrix::{BitrixError, ErrorCode, GaveUp};
use crate::domain::{EntityId, EntityType, Lang};
use crate::portal::Refusal;

fn ids(list: &[EntityId]) -> String {
    const SHOWN: usize = 20;
    let mut s: Vec<String> = list.iter().take(SHOWN).map(|i| i.to_string()).collect();
    if list.len() > SHOWN {
        s.push("…".into());
    }
    s.join(", ")
}

fn kind(lang: Lang, entity: EntityType) -> &'static str {
    match (lang, entity) {
        (Lang::En, EntityType::Contact) => "contacts",
        (Lang::En, EntityType::Company) => "companies",
        (Lang::Ru, EntityType::Contact) => "контактов",
        (Lang::Ru, EntityType::Company) => "компаний",
    }
}

pub fn will_add(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("{n} will be added"),
        Lang::Ru => format!("Будет добавлено: {n}"),
    }
}

pub fn will_remove(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("{n} will be removed"),
        Lang::Ru => format!("Будет удалено: {n}"),
    }
}

pub fn members_after(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("The list will have {n} members."),
        Lang::Ru => format!("В списке будет участников: {n}."),
    }
}

pub fn skipped(lang: Lang, entity: EntityType, list: &[EntityId]) -> String {
    match lang {
        Lang::En => format!(
            "{} not added: not found among the {} you can see (they do not exist, are of the other type, or are hidden from you): {}",
            list.len(),
            kind(lang, entity),
            ids(list)
        ),
        Lang::Ru => format!(
            "Не добавлено: {} — нет среди {}, которые вы видите (их нет, они другого типа или скрыты от вас): {}",
            list.len(),
            kind(lang, entity),
            ids(list)
        ),
    }
}

pub fn not_members(lang: Lang, list: &[EntityId]) -> String {
    match lang {
        Lang::En => format!("{} were not in the list: {}", list.len(), ids(list)),
        Lang::Ru => format!("Не были в списке: {} — {}", list.len(), ids(list)),
    }
}

pub fn saved_summary(lang: Lang, added: usize, removed: usize, total: usize) -> String {
    match lang {
        Lang::En => format!("{added} added, {removed} removed; the list now has {total} members you can see."),
        Lang::Ru => format!("Добавлено: {added}, удалено: {removed}. Сейчас в списке видимых вам участников: {total}."),
    }
}

pub fn dropped(lang: Lang, list: &[EntityId]) -> String {
    match lang {
        Lang::En => format!(
            "Bitrix24 did not keep {}: you may not read them in the CRM, so it dropped them without an error: {}",
            list.len(),
            ids(list)
        ),
        Lang::Ru => format!(
            "Битрикс24 не сохранил участников: {} — у вас нет прав на их просмотр в CRM, поэтому они отброшены без ошибки: {}",
            list.len(),
            ids(list)
        ),
    }
}

pub fn created(lang: Lang, id: u64) -> String {
    match lang {
        Lang::En => format!("Call list #{id} was created."),
        Lang::Ru => format!("Список обзвона №{id} создан."),
    }
}

pub fn all_matching(lang: Lang, total: u64, cap: usize) -> String {
    match lang {
        Lang::En => format!("All that match: {total} (at most {cap} at a time)"),
        Lang::Ru => format!("Все найденные: {total} (не более {cap} за раз)"),
    }
}

pub fn bad_ids(lang: Lang, bad: &[String]) -> String {
    let shown = bad.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    match lang {
        Lang::En => format!("These are not IDs (positive whole numbers expected): {shown}"),
        Lang::Ru => format!("Это не ID (нужны целые положительные числа): {shown}"),
    }
}

pub fn too_many(lang: Lang, cap: usize) -> String {
    match lang {
        Lang::En => format!("More than {cap} were chosen at once. Narrow the search or save in parts."),
        Lang::Ru => format!("Выбрано больше {cap} за раз. Уточните поиск или сохраните частями."),
    }
}

/// A list the portal will not show: it does not exist, or its members are all hidden from the viewer.
pub fn bitrix_no_list(lang: Lang) -> String {
    match lang {
        Lang::En => "This call list does not exist, or none of its members are visible to you in the CRM.".into(),
        Lang::Ru => "Такого списка обзвона нет, или ни один его участник не виден вам в CRM.".into(),
    }
}

pub fn bitrix_not_a_list(lang: Lang) -> String {
    match lang {
        Lang::En => "There is no such call list.".into(),
        Lang::Ru => "Такого списка обзвона нет.".into(),
    }
}

/// What is wrong with a field of the portal's form, in words (the field keeps its protocol name).
pub fn form_problem(lang: Lang, e: &FormError) -> String {
    let field = e.field;
    match (lang, &e.problem) {
        (Lang::En, FormProblem::Missing) => format!("{field} is missing."),
        (Lang::Ru, FormProblem::Missing) => format!("Нет поля {field}."),
        (Lang::En, FormProblem::TooLarge { kib }) => format!("The request is larger than {kib} KiB."),
        (Lang::Ru, FormProblem::TooLarge { kib }) => format!("Запрос больше {kib} КиБ."),
        (Lang::En, FormProblem::NotUtf8) => "The request is not in UTF-8.".into(),
        (Lang::Ru, FormProblem::NotUtf8) => "Запрос не в кодировке UTF-8.".into(),
        (Lang::En, FormProblem::Malformed(_)) => "The request is not a valid form.".into(),
        (Lang::Ru, FormProblem::Malformed(_)) => "Запрос не является корректной формой.".into(),
        (Lang::En, FormProblem::TooLong { max }) => format!("{field} is longer than {max} characters."),
        (Lang::Ru, FormProblem::TooLong { max }) => format!("Поле {field} длиннее {max} символов."),
        (Lang::En, FormProblem::NotAMemberId(_)) => format!("{field} is not a portal identifier."),
        (Lang::Ru, FormProblem::NotAMemberId(_)) => format!("Поле {field} не является идентификатором портала."),
        (Lang::En, FormProblem::NotAToken) => format!("{field} is not a token."),
        (Lang::Ru, FormProblem::NotAToken) => format!("Поле {field} не является токеном."),
        (Lang::En, FormProblem::NotSeconds) => format!("{field} is not a number of seconds."),
        (Lang::Ru, FormProblem::NotSeconds) => format!("Поле {field} не является числом секунд."),
        (Lang::En, FormProblem::NotJson) => format!("{field} is not JSON."),
        (Lang::Ru, FormProblem::NotJson) => format!("Поле {field} не в формате JSON."),
    }
}

/// Why renewing access failed, and what to do.
pub fn reauth_refused(lang: Lang, why: &Refusal) -> String {
    let en = lang == Lang::En;
    let pick = |e: &str, r: &str| if en { e.to_owned() } else { r.to_owned() };
    match why {
        Refusal::ForgedState => pick(
            "The link was not issued by this app. Start again from the app's banner.",
            "Эта ссылка выдана не приложением. Начните заново с баннера в приложении.",
        ),
        Refusal::Expired => pick(
            "The link has expired. Start again from the app's banner.",
            "Срок действия ссылки истёк. Начните заново с баннера в приложении.",
        ),
        Refusal::Replayed => pick(
            "This link was already used. Start again from the app's banner.",
            "Эта ссылка уже использована. Начните заново с баннера в приложении.",
        ),
        Refusal::NoCode => {
            pick("Bitrix24 did not send an authorisation code.", "Битрикс24 не прислал код авторизации.")
        }
        Refusal::CodeRefused => pick(
            "Bitrix24 did not accept the authorisation code. Start again.",
            "Битрикс24 не принял код авторизации. Начните заново.",
        ),
        Refusal::OtherPortal => pick(
            "The authorisation came from another portal than the one that asked for it.",
            "Авторизация пришла с другого портала, чем тот, что её запрашивал.",
        ),
    }
}

/// What is wrong with the place Bitrix24 says the app was opened from.
pub fn bad_placement(lang: Lang, e: &crate::domain::BadPlacement) -> String {
    use crate::domain::BadPlacement as B;
    match (lang, e) {
        (Lang::En, B::Unknown(p)) => format!("The app is not meant to open from “{p}”."),
        (Lang::Ru, B::Unknown(p)) => format!("Приложение не открывается из места «{p}»."),
        (Lang::En, B::NoId) => "Bitrix24 did not say which contact or company it was opened for.".into(),
        (Lang::Ru, B::NoId) => "Битрикс24 не сообщил, для какого контакта или компании открыто приложение.".into(),
        (Lang::En, B::BadId) => "Bitrix24 named the contact or company with something that is not an ID.".into(),
        (Lang::Ru, B::BadId) => "Битрикс24 указал контакт или компанию не числовым ID.".into(),
    }
}

/// A contact or company the app was opened for that the viewer cannot see.
pub fn no_such_record(lang: Lang, entity: EntityType) -> String {
    match (lang, entity) {
        (Lang::En, EntityType::Contact) => {
            "This contact does not exist, or you may not see it in the CRM. Nothing was changed.".into()
        }
        (Lang::En, EntityType::Company) => {
            "This company does not exist, or you may not see it in the CRM. Nothing was changed.".into()
        }
        (Lang::Ru, EntityType::Contact) => {
            "Такого контакта нет, или у вас нет прав на его просмотр в CRM. Ничего не изменено.".into()
        }
        (Lang::Ru, EntityType::Company) => {
            "Такой компании нет, или у вас нет прав на её просмотр в CRM. Ничего не изменено.".into()
        }
    }
}

/// A value that should have been a call list's number.
pub fn not_an_id(lang: Lang, value: &str) -> String {
    let shown: String = value.chars().take(20).collect();
    match lang {
        Lang::En => format!("“{shown}” is not a list number."),
        Lang::Ru => format!("«{shown}» — не номер списка."),
    }
}

pub fn no_selection(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Your change is empty: add or remove someone, or choose another web form in “Web form”.",
        Lang::Ru => "Изменение пустое: добавьте или удалите кого-нибудь либо выберите другую форму в поле «CRM-форма».",
    }
}

pub fn choose_first_members(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "A call list needs at least one member: find someone by name and add them first.",
        Lang::Ru => "В списке обзвона должен быть хотя бы один участник: найдите кого-нибудь по имени и добавьте.",
    }
}

/// What a Bitrix24 failure means, for the manager.
pub fn bitrix(lang: Lang, e: &BitrixError) -> String {
    let en = lang == Lang::En;
    let pick = |en_text: &str, ru_text: &str| if en { en_text.to_owned() } else { ru_text.to_owned() };
    let description = e.api().map(|a| a.description.clone()).unwrap_or_default();
    match e {
        BitrixError::Api(a) => match &a.code {
            ErrorCode::Argument => pick(
                "Bitrix24 says the request lacked a required field. Nothing was changed.",
                "Битрикс24 сообщил, что в запросе не хватает обязательного поля. Ничего не изменено.",
            ),
            ErrorCode::EntityTypeError if description.starts_with("Discrepancy") => pick(
                "The chosen entries are of a different type than the call list (contacts versus companies). Nothing was changed.",
                "Выбранные записи другого типа, чем список обзвона (контакты или компании). Ничего не изменено.",
            ),
            ErrorCode::EntityTypeError => pick(
                "Bitrix24 did not accept the type of the list. Only contacts and companies can be called. Nothing was changed.",
                "Битрикс24 не принял тип списка. Обзванивать можно только контакты и компании. Ничего не изменено.",
            ),
            ErrorCode::EntitiesError if description.contains("not array") => pick(
                "Bitrix24 did not receive the list of members. Nothing was changed.",
                "Битрикс24 не получил список участников. Ничего не изменено.",
            ),
            ErrorCode::EntitiesError | ErrorCode::EntityError => pick(
                "Some chosen contacts or companies no longer exist in the CRM (deleted meanwhile?). Nothing was changed: review the change again.",
                "Некоторых выбранных контактов или компаний больше нет в CRM (удалены?). Ничего не изменено: проверьте изменение ещё раз.",
            ),
            ErrorCode::ListIdError => pick(
                "This call list does not exist, or you may not see it.",
                "Такого списка обзвона нет, или у вас нет к нему доступа.",
            ),
            ErrorCode::WebformError => pick(
                "The web form no longer exists in Bitrix24. Choose another form or clear it. Nothing was changed.",
                "Этой CRM-формы больше нет в Битрикс24. Выберите другую или уберите форму. Ничего не изменено.",
            ),
            ErrorCode::AccessError if description.contains("participants") => pick(
                "You may not see the members of this call list.",
                "У вас нет доступа к участникам этого списка обзвона.",
            ),
            ErrorCode::AccessError => pick(
                "You may not read these contacts or companies in the CRM, so you cannot change this call list. Ask your administrator for access.",
                "У вас нет прав на просмотр этих контактов или компаний в CRM, поэтому изменить список нельзя. Попросите доступ у администратора.",
            ),
            ErrorCode::StatusError => {
                pick("Bitrix24 does not know this call status.", "Битрикс24 не знает такого статуса звонка.")
            }
            ErrorCode::InsufficientScope => pick(
                "The app lacks the CRM permission on this portal. Ask the administrator to reinstall it.",
                "У приложения нет доступа к CRM на этом портале. Попросите администратора переустановить его.",
            ),
            c if c.is_auth() => pick(
                "Your Bitrix24 sign-in has expired. Open the app again from the menu.",
                "Срок вашего входа в Битрикс24 истёк. Откройте приложение заново из меню.",
            ),
            c if c.is_limit() => pick(
                "Bitrix24 is limiting requests right now. Nothing was changed; try again in a minute.",
                "Битрикс24 сейчас ограничивает запросы. Ничего не изменено; повторите через минуту.",
            ),
            _ => {
                if en {
                    format!("Bitrix24 refused the request: {} ({}). Nothing was changed.", a.raw_code, a.description)
                } else {
                    format!("Битрикс24 отклонил запрос: {} ({}). Ничего не изменено.", a.raw_code, a.description)
                }
            }
        },
        BitrixError::NeedsReauthorisation { .. } => pick(
            "Your Bitrix24 sign-in has expired. Open the app again from the menu.",
            "Срок вашего входа в Битрикс24 истёк. Откройте приложение заново из меню.",
        ),
        BitrixError::Ambiguous { .. } => pick(
            "Bitrix24 did not answer, so we cannot tell whether it created the list. Check the call lists before trying again.",
            "Битрикс24 не ответил, поэтому неизвестно, создан ли список. Проверьте списки обзвона, прежде чем повторять.",
        ),
        BitrixError::BudgetExhausted { why: GaveUp::Limits, .. } => pick(
            "Bitrix24 is limiting requests right now. Nothing was changed; try again in a minute.",
            "Битрикс24 сейчас ограничивает запросы. Ничего не изменено; повторите через минуту.",
        ),
        BitrixError::Transport { .. } | BitrixError::Timeout { .. } | BitrixError::BudgetExhausted { .. } => pick(
            "Bitrix24 is not answering right now. Reload the list to see whether the change was saved, then try again.",
            "Битрикс24 сейчас не отвечает. Обновите список, чтобы проверить, сохранилось ли изменение, и повторите.",
        ),
        _ => pick(
            "Bitrix24 answered in a way the app does not understand. Nothing was changed.",
            "Битрикс24 ответил непонятным для приложения образом. Ничего не изменено.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitrix::ApiError;

    fn api(code: &str, description: &str) -> BitrixError {
        BitrixError::Api(ApiError {
            code: ErrorCode::parse(code),
            raw_code: code.into(),
            description: description.into(),
            http_status: 400,
            method: "crm.calllist.update".into(),
        })
    }

    /// Every row of the reference's `crm.calllist.update` table (section 1.1) reads as a sentence in both
    /// languages, without the bare code.
    #[test]
    fn every_documented_error_is_explained_in_both_languages() {
        let table = [
            ("ERROR_ARGUMENT", "LIST_ID is not found"),
            ("ENTITY_TYPE_ERROR", "EntityType is incorrect"),
            ("ENTITIES_ERROR", "Entities is not array"),
            ("ENTITIES_ERROR", "Incorrect entities id"),
            ("LIST_ID_ERROR", "Incorrect list id or access denied"),
            ("ENTITY_TYPE_ERROR", "Discrepancy between the type of call participants and incoming type"),
            ("WEBFORM_ERROR", "Incorrect webform id"),
            ("ACCESS_ERROR", "Access Denied"),
            ("QUERY_LIMIT_EXCEEDED", "Too many requests"),
            ("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."),
            ("expired_token", "The access token provided has expired"),
        ];
        let mut seen = std::collections::HashSet::new();
        for (code, description) in table {
            for lang in [Lang::En, Lang::Ru] {
                let text = bitrix(lang, &api(code, description));
                assert!(!text.contains(code), "{code} shown bare: {text}");
                assert!(text.len() > 20);
                assert!(
                    seen.insert(text.clone()) || code.ends_with("LIMIT_EXCEEDED") || code.ends_with("TIME_LIMIT"),
                    "{code}/{description}: {text}"
                );
            }
        }
    }
}
