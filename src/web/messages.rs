//! Messages with values in them, and what each Bitrix24 failure means for the manager, in their language.
//! A manager never sees a bare error code: the code is kept only as a detail for support.

use crate::bitrix::incoming::{FormError, FormProblem};
use crate::bitrix::{ApiError, BitrixError, ErrorCode, GaveUp};
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

/// What a Bitrix24 failure means, for the manager: what happened, whether anything changed and what to do.
/// Every error code of the reference and every kind of failure has its own words in both languages; only a
/// code the reference does not know is named, for support.
pub fn bitrix(lang: Lang, e: &BitrixError) -> String {
    let (en, ru) = match e {
        BitrixError::Api(a) => return api_error(lang, a),
        BitrixError::NeedsReauthorisation { .. } => (
            "The app's access to Bitrix24 has expired. Open the app again from the menu; if this repeats, an administrator must open it and renew its access.",
            "Доступ приложения к Битрикс24 истёк. Откройте приложение заново из меню; если это повторится, администратор должен открыть его и возобновить доступ.",
        ),
        BitrixError::RenewalFailed { .. } => (
            "Bitrix24's sign-in server did not renew your access just now, so nothing was sent to the portal and nothing was changed. Try again in a minute.",
            "Сервер авторизации Битрикс24 сейчас не продлил ваш доступ, поэтому в портал ничего не отправлено и ничего не изменено. Повторите через минуту.",
        ),
        BitrixError::Ambiguous { .. } => (
            "Bitrix24 did not answer, so we cannot tell whether it created the list. Check the call lists before trying again.",
            "Битрикс24 не ответил, поэтому неизвестно, создан ли список. Проверьте списки обзвона, прежде чем повторять.",
        ),
        BitrixError::BudgetExhausted { why: GaveUp::Limits, .. } => LIMITING,
        BitrixError::Transport { .. } | BitrixError::Timeout { .. } | BitrixError::BudgetExhausted { .. } => (
            "Bitrix24 is not answering right now. Reload the list to see whether the change was saved, then try again.",
            "Битрикс24 сейчас не отвечает. Обновите список, чтобы проверить, сохранилось ли изменение, и повторите.",
        ),
        BitrixError::Store(_) => (
            "The app could not read or keep its access to Bitrix24 just now. Nothing was changed; try again in a minute.",
            "Приложению сейчас не удалось прочитать или сохранить свой доступ к Битрикс24. Ничего не изменено; повторите через минуту.",
        ),
        BitrixError::BadResponse { .. }
        | BitrixError::Redirect { .. }
        | BitrixError::Endpoint(_)
        | BitrixError::Invalid(_) => (
            "Bitrix24 answered in a way the app does not understand. Nothing was changed.",
            "Битрикс24 ответил непонятным для приложения образом. Ничего не изменено.",
        ),
    };
    pick(lang, en, ru)
}

const LIMITING: (&str, &str) = (
    "Bitrix24 is limiting requests right now. Nothing was changed; try again in a minute.",
    "Битрикс24 сейчас ограничивает запросы. Ничего не изменено; повторите через минуту.",
);

fn pick(lang: Lang, en: &str, ru: &str) -> String {
    match lang {
        Lang::En => en.to_owned(),
        Lang::Ru => ru.to_owned(),
    }
}

/// An error envelope from the portal or the OAuth server, by its code (reference 1.x, 2.2, 3.6, 4.2, 5.3,
/// 5.5, 5.6). The match names every code, so a new one cannot go without words.
fn api_error(lang: Lang, a: &ApiError) -> String {
    use ErrorCode::*;
    let description = a.description.as_str();
    let (en, ru) = match &a.code {
        Argument => (
            "Bitrix24 says the request lacked a required field. Nothing was changed.",
            "Битрикс24 сообщил, что в запросе не хватает обязательного поля. Ничего не изменено.",
        ),
        EntityTypeError if description.starts_with("Discrepancy") => (
            "The chosen entries are of a different type than the call list (contacts versus companies). Nothing was changed.",
            "Выбранные записи другого типа, чем список обзвона (контакты или компании). Ничего не изменено.",
        ),
        EntityTypeError => (
            "Bitrix24 did not accept the type of the list. Only contacts and companies can be called. Nothing was changed.",
            "Битрикс24 не принял тип списка. Обзванивать можно только контакты и компании. Ничего не изменено.",
        ),
        EntitiesError if description.contains("not array") => (
            "Bitrix24 did not receive the list of members. Nothing was changed.",
            "Битрикс24 не получил список участников. Ничего не изменено.",
        ),
        EntitiesError | EntityError => (
            "Some chosen contacts or companies no longer exist in the CRM (deleted meanwhile?). Nothing was changed: review the change again.",
            "Некоторых выбранных контактов или компаний больше нет в CRM (удалены?). Ничего не изменено: проверьте изменение ещё раз.",
        ),
        ListIdError => (
            "This call list does not exist, or you may not see it.",
            "Такого списка обзвона нет, или у вас нет к нему доступа.",
        ),
        WebformError => (
            "The web form no longer exists in Bitrix24. Choose another form or clear it. Nothing was changed.",
            "Этой CRM-формы больше нет в Битрикс24. Выберите другую или уберите форму. Ничего не изменено.",
        ),
        AccessError if description.contains("participants") => {
            ("You may not see the members of this call list.", "У вас нет доступа к участникам этого списка обзвона.")
        }
        AccessError => (
            "You may not read these contacts or companies in the CRM, so you cannot change this call list. Ask your administrator for access.",
            "У вас нет прав на просмотр этих контактов или компаний в CRM, поэтому изменить список нельзя. Попросите доступ у администратора.",
        ),
        StatusError => ("Bitrix24 does not know this call status.", "Битрикс24 не знает такого статуса звонка."),
        ExpiredToken | InvalidToken | NoAuthFound => (
            "Your Bitrix24 sign-in has expired. Open the app again from the menu.",
            "Срок вашего входа в Битрикс24 истёк. Откройте приложение заново из меню.",
        ),
        InsufficientScope | InvalidScope => (
            "The app does not have the permission for this on this portal. Ask the administrator to reinstall the app. Nothing was changed.",
            "У приложения нет разрешения на это действие на этом портале. Попросите администратора переустановить приложение. Ничего не изменено.",
        ),
        AuthorizationError => (
            "Bitrix24 could not sign you in. Open the app again from the menu; if this repeats, ask your administrator to check your account. Nothing was changed.",
            "Битрикс24 не смог подтвердить ваш вход. Откройте приложение заново из меню; если это повторится, попросите администратора проверить вашу учётную запись. Ничего не изменено.",
        ),
        UserAccessError => (
            "The administrator has opened this app to some users only, and you are not among them. Ask them for access. Nothing was changed.",
            "Администратор открыл это приложение только некоторым пользователям, и вас среди них нет. Попросите у него доступ. Ничего не изменено.",
        ),
        ApplicationNotFound => (
            "Bitrix24 no longer finds the app on this portal: it was removed or switched off. Ask your administrator to install it again. Nothing was changed.",
            "Битрикс24 больше не находит приложение на этом портале: его удалили или отключили. Попросите администратора установить его снова. Ничего не изменено.",
        ),
        ConnectionError => (
            "Bitrix24 could not reach its sign-in server. Nothing was changed; try again in a minute.",
            "Битрикс24 не смог связаться со своим сервером авторизации. Ничего не изменено; повторите через минуту.",
        ),
        AccessDenied if description.to_ascii_lowercase().contains("commercial") => (
            "This Bitrix24 plan does not let apps work with its data: that is open on commercial plans only. Ask your administrator. Nothing was changed.",
            "Тариф этого Битрикс24 не позволяет приложениям работать с его данными: это доступно только на коммерческих тарифах. Обратитесь к администратору. Ничего не изменено.",
        ),
        AccessDenied => (
            "Bitrix24 refused: you do not have the rights for this. Ask your administrator. Nothing was changed.",
            "Битрикс24 отказал: у вас нет прав на это действие. Обратитесь к администратору. Ничего не изменено.",
        ),
        InvalidCredentials => (
            "Your Bitrix24 account lacks the rights the app needs to act for you. Ask your administrator. Nothing was changed.",
            "У вашей учётной записи в Битрикс24 нет прав, которые нужны приложению, чтобы действовать от вашего имени. Обратитесь к администратору. Ничего не изменено.",
        ),
        InvalidRequest => (
            "Bitrix24 refused the request as malformed (it may require a secure connection). Nothing was changed.",
            "Битрикс24 отклонил запрос как неправильно составленный (возможно, нужно защищённое соединение). Ничего не изменено.",
        ),
        MethodConfirmWaiting => (
            "Bitrix24 is waiting for an administrator to allow the app this action. Ask your administrator to allow it, then try again. Nothing was changed.",
            "Битрикс24 ждёт, пока администратор разрешит приложению это действие. Попросите администратора разрешить его и повторите. Ничего не изменено.",
        ),
        MethodConfirmDenied => (
            "An administrator has not allowed the app this action in Bitrix24. Nothing was changed; ask them if you need it.",
            "Администратор не разрешил приложению это действие в Битрикс24. Ничего не изменено; если оно нужно, обратитесь к нему.",
        ),
        PortalDeleted => (
            "This Bitrix24 is closed or was deleted, so it did not take the request. Nothing was changed. Ask your administrator.",
            "Этот Битрикс24 закрыт или удалён, поэтому запрос не принят. Ничего не изменено. Обратитесь к администратору.",
        ),
        QueryLimitExceeded | OperationTimeLimit => LIMITING,
        OverloadLimit => (
            "Bitrix24 has blocked the app's requests to this portal for overload; only Bitrix24 support can lift this block. Nothing was changed; ask your administrator to contact them.",
            "Битрикс24 заблокировал запросы приложения к этому порталу из-за перегрузки; снять блокировку может только техподдержка Битрикс24. Ничего не изменено; попросите администратора обратиться в поддержку.",
        ),
        MethodNotFound => (
            "This Bitrix24 does not offer something the app needs (a method is missing). Nothing was changed.",
            "В этом Битрикс24 нет того, что нужно приложению (метод не найден). Ничего не изменено.",
        ),
        InternalServerError | UnexpectedAnswer | ErrorCore | WrongEncoding => (
            "Bitrix24 failed with an error of its own. Reload the page to see whether anything changed, then try again.",
            "В Битрикс24 произошла внутренняя ошибка. Обновите страницу, чтобы проверить, изменилось ли что-нибудь, и повторите.",
        ),
        BatchLengthExceeded | BatchMethodNotAllowed | WrongAuthType => (
            "The app sent Bitrix24 a request it does not accept; this is an error in the app. Nothing was changed.",
            "Приложение отправило в Битрикс24 запрос, который тот не принимает; это ошибка приложения. Ничего не изменено.",
        ),
        NotFound => (
            "Bitrix24 did not find what the app asked for (deleted meanwhile?). Nothing was changed.",
            "Битрикс24 не нашёл запрошенное (возможно, оно удалено). Ничего не изменено.",
        ),
        InvalidArgValue => (
            "Bitrix24 did not accept a value in the request. Nothing was changed.",
            "Битрикс24 не принял одно из значений запроса. Ничего не изменено.",
        ),
        AllowedOnlyIntranetUser => (
            "Only the company's own employees may do this in Bitrix24, not external users. Nothing was changed.",
            "В Битрикс24 это могут делать только сотрудники компании, а не внешние пользователи. Ничего не изменено.",
        ),
        EventNotFound | PlacementMaxCount | PlacementUserMode => (
            "Bitrix24 refused one of the app's settings on this portal. Ask the administrator to reinstall the app.",
            "Битрикс24 не принял одну из настроек приложения на этом портале. Попросите администратора переустановить приложение.",
        ),
        InvalidGrant => (
            "The app's access to this portal has lapsed. An administrator must open the app and renew its access. Nothing was changed.",
            "Доступ приложения к этому порталу прекратился. Администратор должен открыть приложение и возобновить доступ. Ничего не изменено.",
        ),
        InvalidClient | WrongClient => (
            "Bitrix24 no longer recognises the app on this portal. Ask the administrator to reinstall it. Nothing was changed.",
            "Битрикс24 больше не признаёт приложение на этом портале. Попросите администратора переустановить его. Ничего не изменено.",
        ),
        PaymentRequired => (
            "The app's subscription or trial on this portal has ended. Ask your administrator to renew it in the Bitrix24 Market, then to open the app and renew its access. Nothing was changed.",
            "Подписка или пробный период приложения на этом портале закончились. Попросите администратора продлить её в Маркете Битрикс24, а затем открыть приложение и возобновить доступ. Ничего не изменено.",
        ),
        Other(code) => {
            // A code the reference does not list: named for support; its description may be in any language.
            return match lang {
                Lang::En => format!("Bitrix24 refused the request: {code} ({description}). Nothing was changed."),
                Lang::Ru => format!("Битрикс24 отклонил запрос (код ошибки {code}). Ничего не изменено."),
            };
        }
    };
    pick(lang, en, ru)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Every code the client knows, as Bitrix24 writes it. The match below fails to compile when a code is
    /// added, so that the list, and with it the test of its words, cannot fall behind.
    fn every_code() -> Vec<(ErrorCode, &'static str)> {
        use ErrorCode::*;
        let all = vec![
            (ExpiredToken, "expired_token"),
            (InvalidToken, "invalid_token"),
            (NoAuthFound, "NO_AUTH_FOUND"),
            (InsufficientScope, "insufficient_scope"),
            (AuthorizationError, "authorization_error"),
            (UserAccessError, "user_access_error"),
            (ApplicationNotFound, "APPLICATION_NOT_FOUND"),
            (ConnectionError, "CONNECTION_ERROR"),
            (AccessDenied, "ACCESS_DENIED"),
            (InvalidCredentials, "INVALID_CREDENTIALS"),
            (InvalidRequest, "INVALID_REQUEST"),
            (MethodConfirmWaiting, "METHOD_CONFIRM_WAITING"),
            (MethodConfirmDenied, "METHOD_CONFIRM_DENIED"),
            (PortalDeleted, "PORTAL_DELETED"),
            (QueryLimitExceeded, "QUERY_LIMIT_EXCEEDED"),
            (OperationTimeLimit, "OPERATION_TIME_LIMIT"),
            (OverloadLimit, "OVERLOAD_LIMIT"),
            (MethodNotFound, "ERROR_METHOD_NOT_FOUND"),
            (InternalServerError, "INTERNAL_SERVER_ERROR"),
            (UnexpectedAnswer, "ERROR_UNEXPECTED_ANSWER"),
            (ErrorCore, "ERROR_CORE"),
            (WrongEncoding, "WRONG_ENCODING"),
            (BatchLengthExceeded, "ERROR_BATCH_LENGTH_EXCEEDED"),
            (BatchMethodNotAllowed, "ERROR_BATCH_METHOD_NOT_ALLOWED"),
            (Argument, "ERROR_ARGUMENT"),
            (EntityTypeError, "ENTITY_TYPE_ERROR"),
            (EntitiesError, "ENTITIES_ERROR"),
            (EntityError, "ENTITY_ERROR"),
            (ListIdError, "LIST_ID_ERROR"),
            (WebformError, "WEBFORM_ERROR"),
            (AccessError, "ACCESS_ERROR"),
            (StatusError, "STATUS_ERROR"),
            (NotFound, "NOT_FOUND"),
            (InvalidArgValue, "INVALID_ARG_VALUE"),
            (AllowedOnlyIntranetUser, "ALLOWED_ONLY_INTRANET_USER"),
            (EventNotFound, "ERROR_EVENT_NOT_FOUND"),
            (PlacementMaxCount, "ERROR_PLACEMENT_MAX_COUNT"),
            (PlacementUserMode, "ERROR_PLACEMENT_USER_MODE"),
            (WrongAuthType, "WRONG_AUTH_TYPE"),
            (InvalidGrant, "invalid_grant"),
            (InvalidClient, "invalid_client"),
            (InvalidScope, "invalid_scope"),
            (PaymentRequired, "PAYMENT_REQUIRED"),
            (WrongClient, "wrong_client"),
        ];
        for (code, _) in &all {
            match code {
                ExpiredToken
                | InvalidToken
                | NoAuthFound
                | InsufficientScope
                | AuthorizationError
                | UserAccessError
                | ApplicationNotFound
                | ConnectionError
                | AccessDenied
                | InvalidCredentials
                | InvalidRequest
                | MethodConfirmWaiting
                | MethodConfirmDenied
                | PortalDeleted
                | QueryLimitExceeded
                | OperationTimeLimit
                | OverloadLimit
                | MethodNotFound
                | InternalServerError
                | UnexpectedAnswer
                | ErrorCore
                | WrongEncoding
                | BatchLengthExceeded
                | BatchMethodNotAllowed
                | Argument
                | EntityTypeError
                | EntitiesError
                | EntityError
                | ListIdError
                | WebformError
                | AccessError
                | StatusError
                | NotFound
                | InvalidArgValue
                | AllowedOnlyIntranetUser
                | EventNotFound
                | PlacementMaxCount
                | PlacementUserMode
                | WrongAuthType
                | InvalidGrant
                | InvalidClient
                | InvalidScope
                | PaymentRequired
                | WrongClient => {}
                Other(_) => unreachable!("`Other` is checked on its own"),
            }
        }
        all
    }

    /// Latin words in a text, but for the names a Russian page writes in Latin letters too.
    fn latin_words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty() && *w != "CRM")
            .map(str::to_owned)
            .collect()
    }

    fn cyrillic(text: &str) -> bool {
        text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
    }

    fn check_both(what: &str, e: &BitrixError) -> (String, String) {
        let en = bitrix(Lang::En, e);
        let ru = bitrix(Lang::Ru, e);
        assert!(en.len() > 20 && ru.len() > 20, "{what}: too short: {en} / {ru}");
        assert!(!cyrillic(&en), "{what}: Russian inside the English text: {en}");
        assert!(cyrillic(&ru), "{what}: the Russian text is not Russian: {ru}");
        assert_ne!(en, ru, "{what}");
        (en, ru)
    }

    /// Every code, from the portal and from the OAuth server, and every other kind of failure reads as a
    /// sentence in English and in Russian, the Russian without English words in it and neither showing the
    /// bare code; only a code nobody documents is named, for support, and its English description is kept
    /// out of the Russian text.
    #[test]
    fn every_error_kind_is_worded_in_both_languages() {
        for (code, raw) in every_code() {
            for description in ["", "REST is available only on commercial plans.", "Some description"] {
                let e = api(raw, description);
                assert_eq!(e.code(), Some(&code), "{raw} parses back");
                let (en, ru) = check_both(raw, &e);
                for text in [&en, &ru] {
                    assert!(!text.to_ascii_uppercase().contains(&raw.to_ascii_uppercase()), "{raw} shown bare: {text}");
                    assert!(!text.contains(description) || description.is_empty(), "{code:?}: {text}");
                }
                assert!(latin_words(&ru).is_empty(), "{code:?}: English in the Russian text: {ru}");
            }
        }
        let unknown = api("SOME_NEW_CODE", "Something odd");
        let (en, ru) = check_both("an unknown code", &unknown);
        assert!(en.contains("SOME_NEW_CODE") && ru.contains("SOME_NEW_CODE"), "named for support");
        assert!(en.contains("Something odd") && !ru.contains("Something odd"), "{ru}");

        let cause = || Box::new(BitrixError::Timeout { method: "oauth/token".into(), seconds: 15 });
        let others = [
            BitrixError::NeedsReauthorisation { reason: "invalid_grant".into() },
            BitrixError::RenewalFailed { cause: cause() },
            BitrixError::Ambiguous { method: "crm.calllist.add".into(), cause: "lost".into() },
            BitrixError::Transport { method: "profile".into(), cause: "refused".into() },
            BitrixError::Timeout { method: "profile".into(), seconds: 60 },
            BitrixError::BudgetExhausted { method: "m".into(), attempts: 3, why: GaveUp::Limits, last: "x".into() },
            BitrixError::BudgetExhausted { method: "m".into(), attempts: 3, why: GaveUp::Faults, last: "x".into() },
            BitrixError::BadResponse { method: "m".into(), status: 200, problem: "not JSON".into() },
            BitrixError::Redirect { method: "m".into(), problem: "elsewhere".into() },
            BitrixError::Endpoint("http://x".into()),
            BitrixError::Store(crate::bitrix::StoreFailure::message("down")),
            BitrixError::Invalid("bad".into()),
        ];
        for e in &others {
            // Every kind but `Api` is in this list: the match fails to compile when one is added.
            match e {
                BitrixError::Api(_)
                | BitrixError::NeedsReauthorisation { .. }
                | BitrixError::RenewalFailed { .. }
                | BitrixError::Ambiguous { .. }
                | BitrixError::Transport { .. }
                | BitrixError::Timeout { .. }
                | BitrixError::BudgetExhausted { .. }
                | BitrixError::BadResponse { .. }
                | BitrixError::Redirect { .. }
                | BitrixError::Endpoint(_)
                | BitrixError::Store(_)
                | BitrixError::Invalid(_) => {}
            }
            let (_, ru) = check_both(&e.kind(), e);
            assert!(latin_words(&ru).is_empty(), "{}: English in the Russian text: {ru}", e.kind());
        }
    }

    /// The errors a portal answers about the app, the user or the portal itself each say what happened in
    /// words of their own, not the sign-in or limit messages of other errors.
    #[test]
    fn the_portal_s_refusals_each_have_their_own_words() {
        let kinds = [
            ("authorization_error", ""),
            ("user_access_error", ""),
            ("APPLICATION_NOT_FOUND", ""),
            ("PORTAL_DELETED", ""),
            ("OVERLOAD_LIMIT", ""),
            ("insufficient_scope", ""),
            ("PAYMENT_REQUIRED", ""),
            ("wrong_client", ""),
            ("METHOD_CONFIRM_WAITING", ""),
            ("METHOD_CONFIRM_DENIED", ""),
            ("ACCESS_DENIED", "REST API is available only on commercial plans"),
            ("ACCESS_DENIED", "Access denied!"),
            ("INVALID_CREDENTIALS", ""),
            ("expired_token", ""),
            ("QUERY_LIMIT_EXCEEDED", ""),
        ];
        for lang in [Lang::En, Lang::Ru] {
            let mut seen = std::collections::HashMap::new();
            for (code, description) in kinds {
                let text = bitrix(lang, &api(code, description));
                if let Some(other) = seen.insert(text.clone(), code) {
                    panic!("{code} and {other} read the same: {text}");
                }
            }
        }
        let waited = BitrixError::RenewalFailed {
            cause: Box::new(BitrixError::Timeout { method: "oauth/token".into(), seconds: 15 }),
        };
        let unreachable = BitrixError::Timeout { method: "profile".into(), seconds: 60 };
        assert_ne!(bitrix(Lang::En, &waited), bitrix(Lang::En, &unreachable), "a renewal says nothing was sent");
    }
}
